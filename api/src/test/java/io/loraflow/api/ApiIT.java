package io.loraflow.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dropwizard.testing.ResourceHelpers;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.LoraflowSearchAttributes;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.TaskQueues;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.operatorservice.v1.AddSearchAttributesRequest;
import io.temporal.api.operatorservice.v1.ListSearchAttributesRequest;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.api.workflowservice.v1.RegisterNamespaceRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleClientOptions;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The service against the real Temporal dev server of the local stack ({@code loraflow stack up};
 * target from LORAFLOW_TEMPORAL_TARGET or .state/stack.env). Runs in its own namespace {@value
 * #NAMESPACE} with an in-process worker running {@link ScriptedFineTune}, so real pipeline workers
 * on the same server never see these runs. Covers what the in-memory server cannot: listing through
 * visibility with search attributes, schedules, health.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class ApiIT {

  static final String NAMESPACE = "loraflow-api-it";
  private static final String TOKEN = "it-token-0123456789abcdef";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String STAMP = Long.toString(System.currentTimeMillis(), 36);

  private static final String TARGET =
      new StackEnvLookup(System.getenv()).lookup("LORAFLOW_TEMPORAL_TARGET") != null
          ? new StackEnvLookup(System.getenv()).lookup("LORAFLOW_TEMPORAL_TARGET")
          : "127.0.0.1:7233";
  private static final WorkflowServiceStubs STUBS = prepareNamespace();
  private static final WorkflowClient CLIENT =
      WorkflowClient.newInstance(
          STUBS, WorkflowClientOptions.newBuilder().setNamespace(NAMESPACE).build());
  private static final WorkerFactory WORKERS = startWorker();

  static final DropwizardAppExtension<LoraflowConfiguration> APP =
      new DropwizardAppExtension<>(
          LoraflowApplication.class, ResourceHelpers.resourceFilePath("api-it.yml"));

  /** Registers the namespace and the search attributes once; waits until the namespace serves. */
  private static WorkflowServiceStubs prepareNamespace() {
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newConnectedServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget(TARGET).build(),
            Duration.ofSeconds(10));
    try {
      stubs
          .blockingStub()
          .describeNamespace(DescribeNamespaceRequest.newBuilder().setNamespace(NAMESPACE).build());
    } catch (io.grpc.StatusRuntimeException notThere) {
      stubs
          .blockingStub()
          .registerNamespace(
              RegisterNamespaceRequest.newBuilder()
                  .setNamespace(NAMESPACE)
                  .setWorkflowExecutionRetentionPeriod(
                      com.google.protobuf.Duration.newBuilder().setSeconds(86_400))
                  .build());
    }
    OperatorServiceStubs operator =
        OperatorServiceStubs.newServiceStubs(
            OperatorServiceStubsOptions.newBuilder()
                .setTarget(TARGET)
                .validateAndBuildWithDefaults());
    // a namespace registered just now takes a few seconds to reach every cache of the server
    Map<String, IndexedValueType> present =
        retry(
            () ->
                operator
                    .blockingStub()
                    .listSearchAttributes(
                        ListSearchAttributesRequest.newBuilder().setNamespace(NAMESPACE).build())
                    .getCustomAttributesMap());
    AddSearchAttributesRequest.Builder add =
        AddSearchAttributesRequest.newBuilder().setNamespace(NAMESPACE);
    for (String name :
        new String[] {
          LoraflowSearchAttributes.BASE_MODEL.getName(),
          LoraflowSearchAttributes.DATASET.getName(),
          LoraflowSearchAttributes.PHASE.getName()
        }) {
      if (!present.containsKey(name)) {
        add.putSearchAttributes(name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
      }
    }
    if (add.getSearchAttributesCount() > 0) {
      operator.blockingStub().addSearchAttributes(add.build());
    }
    WorkflowClient client =
        WorkflowClient.newInstance(
            stubs, WorkflowClientOptions.newBuilder().setNamespace(NAMESPACE).build());
    retry(() -> client.countWorkflows("LoraflowPhase = 'STARTING'"));
    return stubs;
  }

  private static <T> T retry(java.util.function.Supplier<T> call) {
    RuntimeException last = null;
    for (int i = 0; i < 60; i++) {
      try {
        return call.get();
      } catch (RuntimeException e) {
        last = e;
        try {
          Thread.sleep(500);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
    throw last;
  }

  private static WorkerFactory startWorker() {
    WorkerFactory factory = WorkerFactory.newInstance(CLIENT);
    factory.newWorker(TaskQueues.CPU).registerWorkflowImplementationTypes(ScriptedFineTune.class);
    factory.start();
    return factory;
  }

  @AfterAll
  static void stop() {
    WORKERS.shutdownNow();
    STUBS.shutdownNow();
  }

  private static Invocation.Builder call(String path) {
    return APP.client()
        .target("http://127.0.0.1:" + APP.getLocalPort() + path)
        .request()
        .header("Authorization", "Bearer " + TOKEN);
  }

  private static JsonNode body(Response r) {
    try {
      return JSON.readTree(r.readEntity(String.class));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static String spec(String runName) {
    return "{\"runName\":\""
        + runName
        + "\",\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"tiny-llama-random\"}";
  }

  /** Polls until {@code done} holds (visibility and namespace caches are eventually consistent). */
  private static JsonNode await(String path, Predicate<JsonNode> done) throws InterruptedException {
    JsonNode last = null;
    for (int i = 0; i < 60; i++) {
      Response r = call(path).get();
      last = body(r);
      if (r.getStatus() == 200 && done.test(last)) {
        return last;
      }
      Thread.sleep(500);
    }
    throw new AssertionError("gave up waiting on " + path + ", last: " + last);
  }

  @Test
  void startWatchListAndCancelARunOnTheRealServer() throws Exception {
    String name = "it-" + STAMP;
    Response started = call("/v1/runs").post(Entity.json(spec(name)));
    assertEquals(201, started.getStatus(), () -> started.readEntity(String.class));
    String id = "finetune-" + name;

    CLIENT
        .newWorkflowStub(FineTuneWorkflow.class, id)
        .reportProgress(new Progress(Phase.TRAINING, 3, 9, 2.5, 100.0, 12L, ""));
    JsonNode view = await("/v1/runs/" + id, v -> v.path("progress").path("step").asInt() == 3);
    assertEquals("RUNNING", view.path("status").asText());

    JsonNode list =
        await(
            "/v1/runs?baseModel=tiny-llama-random&status=RUNNING&limit=100",
            l -> l.path("runs").toString().contains(id));
    assertTrue(list.path("query").asText().contains("LoraflowBaseModel = 'tiny-llama-random'"));
    JsonNode other = body(call("/v1/runs?baseModel=smollm2-135m-instruct").get());
    assertFalse(other.path("runs").toString().contains(id));

    assertEquals(202, call("/v1/runs/" + id + "/cancel").post(Entity.json("{}")).getStatus());
    JsonNode closed = await("/v1/runs/" + id, v -> !"RUNNING".equals(v.path("status").asText()));
    assertEquals("CANCELLED", closed.path("status").asText());
    assertEquals("CANCELLED", closed.path("phase").asText());
  }

  @Test
  void retrainCreatesThenUpdatesASchedule() throws Exception {
    String source = "it-src-" + STAMP;
    assertEquals(201, call("/v1/runs").post(Entity.json(spec(source))).getStatus());
    String scheduleId = "it-schedule-" + STAMP;
    String request =
        "{\"fromRun\":\"finetune-"
            + source
            + "\",\"overrides\":{\"training\":{\"epochs\":1}},\"runNow\":false,"
            + "\"schedule\":{\"id\":\""
            + scheduleId
            + "\",\"every\":[\"24h\"]}}";
    ScheduleClient schedules =
        ScheduleClient.newInstance(
            STUBS, ScheduleClientOptions.newBuilder().setNamespace(NAMESPACE).build());
    try {
      Response created = call("/v1/retrain").post(Entity.json(request));
      assertEquals(201, created.getStatus(), () -> created.readEntity(String.class));
      JsonNode c = body(created);
      assertEquals(scheduleId, c.path("schedule").path("scheduleId").asText());
      assertTrue(c.path("schedule").path("created").asBoolean());
      assertFalse(c.path("schedule").path("nextRuns").isEmpty());
      assertTrue(c.path("run").isMissingNode());
      assertEquals(1, c.path("spec").path("training").path("epochs").asInt());

      Response updated =
          call("/v1/retrain").post(Entity.json(request.replace("\"24h\"", "\"12h\"")));
      assertEquals(200, updated.getStatus());
      assertFalse(body(updated).path("schedule").path("created").asBoolean());
      assertEquals(
          Duration.ofHours(12),
          schedules
              .getHandle(scheduleId)
              .describe()
              .getSchedule()
              .getSpec()
              .getIntervals()
              .get(0)
              .getEvery());
    } finally {
      schedules.getHandle(scheduleId).delete();
      CLIENT.newUntypedWorkflowStub("finetune-" + source).terminate("ApiIT done");
    }
  }

  @Test
  void healthCheckSeesTemporalAndTokenIsRequired() throws Exception {
    Response health =
        APP.client()
            .target("http://127.0.0.1:" + APP.getAdminPort() + "/healthcheck")
            .request()
            .get();
    JsonNode checks = body(health);
    assertTrue(checks.path("temporal").path("healthy").asBoolean(), checks.toString());
    Response anonymous =
        APP.client().target("http://127.0.0.1:" + APP.getLocalPort() + "/v1/runs").request().get();
    assertEquals(401, anonymous.getStatus());
  }
}
