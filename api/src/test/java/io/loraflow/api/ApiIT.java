package io.loraflow.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dropwizard.testing.ResourceHelpers;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.loraflow.api.auth.ApiKeyStore;
import io.loraflow.api.auth.Scope;
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
import java.util.List;
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

  /** Keys of every scope in a key file of this test (the file holds only their hashes). */
  private static final java.nio.file.Path KEYS = keyFile();

  private static final ApiKeyStore STORE = new ApiKeyStore(KEYS, java.time.Clock.systemUTC());
  private static final String READ = addKey("it-read", Scope.READ);
  private static final String WRITE = addKey("it-write", Scope.WRITE);
  private static final String ADMIN = addKey("it-admin", Scope.ADMIN);
  private static final String BURST = addKey("it-burst-" + STAMP, Scope.WRITE);
  private static final String SWEEPER = addKey("it-sweeper-" + STAMP, Scope.WRITE);
  // keys of their own for tests that start runs, so that they stay clear of the per-key limit (3)
  private static final String SCHEDULER = addKey("it-sched-" + STAMP, Scope.WRITE);
  private static final String OTHER = addKey("it-other-" + STAMP, Scope.WRITE);
  private static final String SOURCES = addKey("it-sources-" + STAMP, Scope.WRITE);
  private static final String TRIER = addKey("it-try-" + STAMP, Scope.WRITE);

  static final DropwizardAppExtension<LoraflowConfiguration> APP =
      new DropwizardAppExtension<>(
          LoraflowApplication.class,
          ResourceHelpers.resourceFilePath("api-it.yml"),
          io.dropwizard.testing.ConfigOverride.config("auth.keyFile", KEYS.toString()));

  private static java.nio.file.Path keyFile() {
    try {
      return java.nio.file.Files.createTempDirectory("loraflow-api-it-").resolve("api-keys.json");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String addKey(String id, Scope scope) {
    try {
      return STORE.add(id, scope).secret();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

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
    factory
        .newWorker(TaskQueues.CPU)
        .registerWorkflowImplementationTypes(
            ScriptedFineTune.class,
            ScriptedSweep.class,
            io.loraflow.workflows.TryAdapterWorkflowImpl.class);
    factory.newWorker(TaskQueues.GPU).registerActivitiesImplementations(new ScriptedGpu());
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
    Response started = as(TOKEN, "POST", "/v1/runs", spec(name));
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

    assertEquals(202, as(TOKEN, "POST", "/v1/runs/" + id + "/cancel", "{}").getStatus());
    JsonNode closed = await("/v1/runs/" + id, v -> !"RUNNING".equals(v.path("status").asText()));
    assertEquals("CANCELLED", closed.path("status").asText());
    assertEquals("CANCELLED", closed.path("phase").asText());
  }

  @Test
  void retrainCreatesThenUpdatesASchedule() throws Exception {
    String source = "it-src-" + STAMP;
    assertEquals(201, as(TOKEN, "POST", "/v1/runs", spec(source)).getStatus());
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
  void aScheduleWithCronAndIntervalReadsBackWithBoth() throws Exception {
    String source = "it-both-src-" + STAMP;
    // a key of its own: the shared keys are near the per-key admission limit (3)
    assertEquals(201, as(SOURCES, "POST", "/v1/runs", spec(source)).getStatus());
    String scheduleId = "it-both-" + STAMP;
    ScheduleClient schedules =
        ScheduleClient.newInstance(
            STUBS, ScheduleClientOptions.newBuilder().setNamespace(NAMESPACE).build());
    try {
      Response created =
          as(
              TOKEN,
              "POST",
              "/v1/retrain",
              "{\"fromRun\":\"finetune-"
                  + source
                  + "\",\"runNow\":false,\"schedule\":{\"id\":\""
                  + scheduleId
                  + "\",\"cron\":[\"0 3 * * *\",\"*/15 9,17 * * 1,5\",\"0 9-17/2 1-7 JAN-MAR,jun"
                  + " MON-FRI\",\"@daily\"],"
                  + "\"every\":[\"24h\"]}}");
      assertEquals(201, created.getStatus(), () -> created.readEntity(String.class));
      // the server keeps cron text only as calendars: it reads back as the same text, names as
      // numbers and shorthands expanded
      JsonNode one = body(as(TOKEN, "GET", "/v1/schedules/" + scheduleId, null));
      assertEquals(
          "[\"0 3 * * *\",\"*/15 9,17 * * 1,5\",\"0 9-17/2 1-7 1-3,6 1-5\",\"0 0 * * *\"]",
          one.path("cron").toString());
      assertEquals("[\"86400s\"]", one.path("every").toString());
      JsonNode list =
          await("/v1/schedules", l -> l.path("schedules").toString().contains(scheduleId));
      for (JsonNode s : list.path("schedules")) {
        if (s.path("scheduleId").asText().equals(scheduleId)) {
          assertEquals(one.path("cron"), s.path("cron"), "list and get agree");
          assertEquals(one.path("every"), s.path("every"));
        }
      }
    } finally {
      try {
        schedules.getHandle(scheduleId).delete();
      } catch (io.temporal.client.schedules.ScheduleException notCreated) {
        // the assertion above says why
      }
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

  private static Response as(String key, String method, String path, String json) {
    Invocation.Builder b =
        APP.client().target("http://127.0.0.1:" + APP.getLocalPort() + path).request();
    if (key != null) {
      b = b.header("Authorization", "Bearer " + key);
    }
    Response r = json == null ? b.method(method) : b.method(method, Entity.json(json));
    r.bufferEntity(); // reads the body, so the pooled connection is free for the next call
    return r;
  }

  /** One operation, the scope it needs and what a key with that scope gets. */
  private record Op(String method, String path, String body, Scope needs, int ok) {}

  @Test
  void everyEndpointWithEveryScopeOnTheRealStack() throws Exception {
    // lineage in MLflow: two tracked runs and a registered adapter version
    io.loraflow.infra.StackSettings settings = io.loraflow.infra.StackSettings.load();
    String runA = "finetune-it-cmp-a-" + STAMP;
    String runB = "finetune-it-cmp-b-" + STAMP;
    String model = "loraflow-it-" + STAMP;
    try (io.loraflow.infra.ObjectStore store = io.loraflow.infra.ObjectStore.connect(settings);
        io.loraflow.infra.mlflow.Tracking tracking =
            io.loraflow.infra.mlflow.Tracking.connect(settings, store)) {
      for (String id : new String[] {runA, runB}) {
        String mlflowRun = tracking.runForWorkflow("loraflow-it-compare", id, id, Map.of()).runId();
        tracking.logParams(
            mlflowRun, Map.of("lora_r", id.equals(runA) ? "8" : "16", "epochs", "1"));
        tracking.logMetrics(mlflowRun, Map.of("eval_loss", id.equals(runA) ? 1.5 : 1.25), 0);
      }
      var registry = new io.loraflow.infra.mlflow.ModelRegistry(tracking.rest());
      registry.createVersion(
          model,
          "s3://loraflow/runs/" + runA + "/adapter/",
          null,
          Map.of("loraflow.workflow_id", runA, "loraflow.eval_loss", "1.5"));
      registry.setAlias(model, "champion", "1");
    }
    // a run and a schedule to act on
    String name = "it-ops-" + STAMP;
    assertEquals(201, as(ADMIN, "POST", "/v1/runs", spec(name)).getStatus());
    String run = "finetune-" + name;
    String schedule = "it-ops-schedule-" + STAMP;
    String retrain =
        "{\"fromRun\":\""
            + run
            + "\",\"runNow\":false,\"schedule\":{\"id\":\""
            + schedule
            + "\",\"every\":[\"24h\"]}}";
    List<Op> ops =
        List.of(
            new Op("GET", "/v1/runs?limit=5", null, Scope.READ, 200),
            new Op("GET", "/v1/runs/" + run, null, Scope.READ, 200),
            new Op("GET", "/v1/adapters?prefix=" + model, null, Scope.READ, 200),
            new Op("GET", "/v1/adapters/" + model, null, Scope.READ, 200),
            new Op("GET", "/v1/compare?runs=" + runA + "," + runB, null, Scope.READ, 200),
            new Op("POST", "/v1/retrain", retrain, Scope.WRITE, 201),
            new Op("GET", "/v1/schedules/" + schedule, null, Scope.READ, 200),
            new Op("GET", "/v1/schedules?limit=100", null, Scope.READ, 200),
            new Op("POST", "/v1/schedules/" + schedule + "/pause?note=it", "", Scope.WRITE, 200),
            new Op("POST", "/v1/schedules/" + schedule + "/resume", "", Scope.WRITE, 200),
            new Op("POST", "/v1/runs", spec("it-ops2-" + STAMP), Scope.WRITE, 201),
            new Op("POST", "/v1/runs/" + run + "/cancel", "{}", Scope.WRITE, 202),
            new Op("DELETE", "/v1/schedules/" + schedule, null, Scope.ADMIN, 204));
    Map<Scope, String> keys = Map.of(Scope.READ, READ, Scope.WRITE, WRITE, Scope.ADMIN, ADMIN);
    try {
      for (Op op : ops) {
        String what = op.method() + " " + op.path();
        assertEquals(401, as(null, op.method(), op.path(), op.body()).getStatus(), what);
        assertEquals(401, as("lfk_nobody_x", op.method(), op.path(), op.body()).getStatus(), what);
        for (Scope scope : Scope.values()) {
          if (!scope.covers(op.needs())) {
            Response denied = as(keys.get(scope), op.method(), op.path(), op.body());
            assertEquals(403, denied.getStatus(), what + " as " + scope);
            assertTrue(
                body(denied).path("message").asText().contains("needs " + op.needs().wire()), what);
          }
        }
        // the least scope that covers it does it
        Response done = as(keys.get(op.needs()), op.method(), op.path(), op.body());
        String text = done.readEntity(String.class);
        assertEquals(op.ok(), done.getStatus(), what + ": " + text);
        if (what.startsWith("GET /v1/compare")) {
          JsonNode c = JSON.readTree(text);
          assertEquals(2, c.path("runs").size(), text);
          assertTrue(text.contains("\"key\":\"lora_r\""), text);
          for (JsonNode row : c.path("params")) {
            assertEquals(
                row.path("key").asText().equals("lora_r"), row.path("differs").asBoolean(), text);
          }
        }
        if (what.startsWith("GET /v1/adapters/")) {
          JsonNode a = JSON.readTree(text);
          assertEquals("1", a.path("aliases").path("champion").asText(), text);
          assertEquals(runA, a.path("versions").get(0).path("runId").asText(), text);
          assertEquals(1.5, a.path("versions").get(0).path("evalLoss").asDouble(), text);
        }
        if (what.endsWith("/pause?note=it")) {
          assertTrue(JSON.readTree(text).path("paused").asBoolean(), text);
        }
        if (what.endsWith("/resume")) {
          assertFalse(JSON.readTree(text).path("paused").asBoolean(), text);
        }
      }
      // gone after the delete; a second cancel is a conflict, not a 5xx
      assertEquals(404, as(READ, "GET", "/v1/schedules/" + schedule, null).getStatus());
      JsonNode closed = await("/v1/runs/" + run, v -> !"RUNNING".equals(v.path("status").asText()));
      assertEquals("CANCELLED", closed.path("status").asText());
      assertEquals(409, as(WRITE, "POST", "/v1/runs/" + run + "/cancel", "{}").getStatus());
      assertEquals(
          404, as(READ, "GET", "/v1/compare?runs=" + runA + ",finetune-nope", null).getStatus());
    } finally {
      CLIENT.newUntypedWorkflowStub("finetune-it-ops2-" + STAMP).terminate("ApiIT done");
    }
  }

  @Test
  void admissionControlCountsRunningRunsPerKeyThrough429() throws Exception {
    List<String> started = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        Response r = as(BURST, "POST", "/v1/runs", spec("it-burst-" + i + "-" + STAMP));
        assertEquals(201, r.getStatus(), () -> r.readEntity(String.class));
        started.add("finetune-it-burst-" + i + "-" + STAMP);
      }
      Response refused = as(BURST, "POST", "/v1/runs", spec("it-burst-x-" + STAMP));
      assertEquals(429, refused.getStatus());
      assertEquals("7", refused.getHeaderString("Retry-After"));
      assertTrue(body(refused).path("message").asText().contains("limit per key is 3"));
      // visibility (not only this instance's memory) knows whose they are: after the lag window
      Thread.sleep(16_000);
      assertEquals(429, as(BURST, "POST", "/v1/runs", spec("it-burst-y-" + STAMP)).getStatus());
      // one finishes: room again
      CLIENT.newUntypedWorkflowStub(started.remove(0)).terminate("ApiIT: make room");
      Response again = null;
      for (int i = 0; i < 20; i++) {
        again = as(BURST, "POST", "/v1/runs", spec("it-burst-z-" + STAMP));
        if (again.getStatus() != 429) {
          break;
        }
        Thread.sleep(500);
      }
      assertEquals(201, again.getStatus());
      started.add("finetune-it-burst-z-" + STAMP);
    } finally {
      for (String id : started) {
        CLIENT.newUntypedWorkflowStub(id).terminate("ApiIT done");
      }
    }
  }

  @Test
  void aRunningSweepCountsAsItsConcurrentChildrenThroughVisibility() throws Exception {
    String name = "it-sw-" + STAMP;
    String sweepId = "sweep-" + name;
    List<String> runs = new java.util.ArrayList<>();
    try {
      // 3 children, 2 at once: 2 of the key's 3
      Response started =
          as(
              SWEEPER,
              "POST",
              "/v1/sweeps",
              "{\"base\":" + spec(name) + ",\"grid\":{\"loraR\":[4,8,16]},\"maxConcurrent\":2}");
      assertEquals(201, started.getStatus(), () -> started.readEntity(String.class));
      // past the lag window only visibility counts: the sweep (memo: 2 runs) and its 2 running
      // children, which are the sweep's and not counted again
      await(
          "/v1/runs?status=RUNNING&limit=1000",
          l -> l.path("runs").toString().contains(sweepId + "-c1"));
      Thread.sleep(16_000);
      Response one = as(SWEEPER, "POST", "/v1/runs", spec("it-sw-run-" + STAMP));
      assertEquals(201, one.getStatus(), () -> one.readEntity(String.class));
      runs.add("finetune-it-sw-run-" + STAMP);
      Response refused = as(SWEEPER, "POST", "/v1/runs", spec("it-sw-run2-" + STAMP));
      assertEquals(429, refused.getStatus());
      assertEquals("7", refused.getHeaderString("Retry-After"));
      String why = body(refused).path("message").asText();
      assertTrue(why.contains("has 3 active or queued runs"), why);
      Thread.sleep(16_000);
      Response stillRefused =
          as(
              SWEEPER,
              "POST",
              "/v1/sweeps",
              "{\"base\":" + spec(name + "-b") + ",\"grid\":{\"loraR\":[4]},\"maxConcurrent\":1}");
      assertEquals(429, stillRefused.getStatus(), () -> stillRefused.readEntity(String.class));
    } finally {
      CLIENT.newUntypedWorkflowStub(sweepId).terminate("ApiIT done");
      for (String id : runs) {
        CLIENT.newUntypedWorkflowStub(id).terminate("ApiIT done");
      }
    }
  }

  @Test
  void scheduleStartedRunsCountAgainstTheKeyThatScheduledThem() throws Exception {
    String keyId = "it-sched-" + STAMP;
    String key = SCHEDULER;
    String source = "it-sched-src-" + STAMP;
    String scheduleId = "it-sched-" + STAMP;
    ScheduleClient schedules =
        ScheduleClient.newInstance(
            STUBS, ScheduleClientOptions.newBuilder().setNamespace(NAMESPACE).build());
    String prefix = "finetune-" + scheduleId;
    String ofSchedule =
        "WorkflowType = 'FineTune' AND ExecutionStatus = 'Running' AND WorkflowId STARTS_WITH '"
            + prefix
            + "'";
    // a key of its own: the shared keys are near the per-key admission limit (3)
    assertEquals(201, as(SOURCES, "POST", "/v1/runs", spec(source)).getStatus());
    try {
      Response created =
          as(
              key,
              "POST",
              "/v1/retrain",
              "{\"fromRun\":\"finetune-"
                  + source
                  + "\",\"runNow\":false,\"schedule\":{\"id\":\""
                  + scheduleId
                  + "\",\"every\":[\"24h\"]}}");
      assertEquals(201, created.getStatus(), () -> created.readEntity(String.class));
      // the schedule fires three times (Temporal starts the runs; the API is not asked)
      for (int i = 0; i < 3; i++) {
        schedules
            .getHandle(scheduleId)
            .trigger(
                io.temporal.api.enums.v1.ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL);
        Thread.sleep(1_100); // the started run's id ends in the action time, in seconds
      }
      for (int i = 0; i < 60 && CLIENT.countWorkflows(ofSchedule).getCount() < 3; i++) {
        Thread.sleep(500);
      }
      assertEquals(3, CLIENT.countWorkflows(ofSchedule).getCount(), "scheduled runs running");
      // the limit per key is 3 (api-it.yml): the scheduler's key has no room left for an API start
      Response refused = as(key, "POST", "/v1/runs", spec("it-sched-x-" + STAMP));
      assertEquals(429, refused.getStatus(), () -> refused.readEntity(String.class));
      assertTrue(
          body(refused)
              .path("message")
              .asText()
              .contains("key '" + keyId + "' has 3 active or queued runs"),
          body(refused).toString());
      // another key is not charged for them
      Response other = as(OTHER, "POST", "/v1/runs", spec("it-sched-y-" + STAMP));
      assertEquals(201, other.getStatus(), () -> other.readEntity(String.class));
    } finally {
      schedules.getHandle(scheduleId).delete();
      CLIENT.newUntypedWorkflowStub("finetune-" + source).terminate("ApiIT done");
      try {
        CLIENT.newUntypedWorkflowStub("finetune-it-sched-y-" + STAMP).terminate("ApiIT done");
      } catch (io.temporal.client.WorkflowNotFoundException notStarted) {
        // an assertion above failed first
      }
      CLIENT
          .listExecutions(ofSchedule)
          .forEach(
              m ->
                  CLIENT
                      .newUntypedWorkflowStub(m.getExecution().getWorkflowId())
                      .terminate("ApiIT done"));
    }
  }

  @Test
  void tryAnAdapterThroughTheApiWithEveryScope() throws Exception {
    String writer = TRIER;
    String done = "finetune-it-try-" + STAMP;
    String running = "finetune-it-try-running-" + STAMP;
    assertEquals(201, as(writer, "POST", "/v1/runs", spec("it-try-" + STAMP)).getStatus());
    assertEquals(201, as(writer, "POST", "/v1/runs", spec("it-try-running-" + STAMP)).getStatus());
    try {
      CLIENT
          .newWorkflowStub(FineTuneWorkflow.class, done)
          .reportProgress(Progress.of(Phase.COMPLETED, "done"));
      await("/v1/runs/" + done, v -> "COMPLETED".equals(v.path("status").asText()));
      String ask = "{\"adapter\":\"" + done + "\",\"prompt\":\"How long?\",\"maxNewTokens\":16}";

      Response ok = as(writer, "POST", "/v1/adapters/try", ask);
      assertEquals(200, ok.getStatus(), () -> ok.readEntity(String.class));
      JsonNode answer = body(ok);
      // the question went to the GPU queue in the run's template, with the run's adapter
      assertEquals(
          "echo runs/" + done + "/adapter/ | <human>: How long?\n<assistant>:",
          answer.path("answer").asText());
      assertEquals(done, answer.path("runId").asText());
      assertEquals("tiny-llama-random", answer.path("baseModel").asText());
      assertEquals(16, answer.path("newTokens").asInt());
      assertTrue(answer.path("tryId").asText().startsWith("try-"), answer.toString());
      assertEquals(
          "WORKFLOW_EXECUTION_STATUS_COMPLETED",
          CLIENT
              .newUntypedWorkflowStub(answer.path("tryId").asText())
              .describe()
              .getStatus()
              .name());

      assertEquals(401, as(null, "POST", "/v1/adapters/try", ask).getStatus());
      assertEquals(403, as(READ, "POST", "/v1/adapters/try", ask).getStatus());
      assertEquals(200, as(ADMIN, "POST", "/v1/adapters/try", ask).getStatus());
      Response busy = as(writer, "POST", "/v1/adapters/try", ask.replace(done, running));
      assertEquals(409, busy.getStatus(), () -> busy.readEntity(String.class));
      assertTrue(body(busy).path("message").asText().contains("RUNNING"), body(busy).toString());
      assertEquals(
          404,
          as(writer, "POST", "/v1/adapters/try", ask.replace(done, "finetune-nope-" + STAMP))
              .getStatus());
      Response bad =
          as(
              writer,
              "POST",
              "/v1/adapters/try",
              ask.replace("16", "900").replace("}", ",\"x\":1}"));
      assertEquals(400, bad.getStatus());
      assertEquals(2, body(bad).path("errors").size(), body(bad).toString());
    } finally {
      CLIENT.newUntypedWorkflowStub(running).terminate("ApiIT done");
    }
  }

  @Test
  void theAdminPortAnswersLoopbackAndTheServedDocumentIsTheValidator() {
    Response doc = as(null, "GET", "/v1/openapi.json", null);
    assertEquals(200, doc.getStatus());
    Response bad = as(WRITE, "POST", "/v1/runs", "{\"dataset\":1,\"baseModel\":null,\"x\":2}");
    assertEquals(400, bad.getStatus());
    assertEquals(3, body(bad).path("errors").size());
    Response threads =
        APP.client().target("http://127.0.0.1:" + APP.getAdminPort() + "/threads").request().get();
    assertEquals(200, threads.getStatus());
  }
}
