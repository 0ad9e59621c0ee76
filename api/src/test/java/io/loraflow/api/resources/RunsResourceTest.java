package io.loraflow.api.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.dropwizard.testing.junit5.ResourceExtension;
import io.loraflow.api.LoraflowApplication;
import io.loraflow.api.TestTemporal;
import io.loraflow.api.auth.ApiKeys;
import io.loraflow.api.core.ApiServices;
import io.loraflow.api.core.RunService;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.testing.TestWorkflowEnvironment;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The REST resources against an in-memory Temporal running {@code ScriptedFineTune} (the real
 * workflow contract, scripted states). Listing and schedules need the real server: see {@code
 * ApiIT}.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class RunsResourceTest {

  private static final String TOKEN = "test-token-0123456789abcdef";
  private static final ObjectMapper JSON = Jackson.newObjectMapper();

  private static final TestWorkflowEnvironment TEMPORAL = TestTemporal.start();
  private static final RunService RUNS =
      new RunService(TEMPORAL.getWorkflowClient(), TestTemporal.LINKS, Clock.systemUTC());
  private static final ApiServices SERVICES =
      ApiServices.connect(
          RUNS,
          ScheduleClient.newInstance(TEMPORAL.getWorkflowServiceStubs()),
          URI.create("http://127.0.0.1:1"));

  static final ResourceExtension API = build();

  private static ResourceExtension build() {
    ResourceExtension.Builder b =
        ResourceExtension.builder()
            .setMapper(LoraflowApplication.apiMapper(Jackson.newObjectMapper()));
    for (Object c :
        LoraflowApplication.jerseyComponents(SERVICES, new ApiKeys(null, TOKEN), "test")) {
      b.addProvider(c);
    }
    return b.build();
  }

  @AfterAll
  static void stopTemporal() {
    TEMPORAL.close();
  }

  private static Invocation.Builder call(String path) {
    return API.target(path).request().header("Authorization", "Bearer " + TOKEN);
  }

  private static JsonNode body(Response r) {
    try {
      return JSON.readTree(r.readEntity(String.class));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static List<String> fields(JsonNode error) {
    List<String> f = new ArrayList<>();
    error.path("errors").forEach(e -> f.add(e.path("field").asText()));
    return f;
  }

  private static final String SPEC =
      "{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"smollm2-135m-instruct\","
          + "\"training\":{\"epochs\":2}}";

  @Test
  void startsARunAndShowsItsProgress() {
    Response r = call("/v1/runs").post(Entity.json(SPEC));
    assertEquals(201, r.getStatus());
    JsonNode accepted = body(r);
    String id = accepted.path("runId").asText();
    assertTrue(id.startsWith("finetune-smollm2-135m-instruct-"), id);
    assertEquals(URI.create("/v1/runs/" + id).getPath(), r.getLocation().getPath());
    assertEquals(
        "http://127.0.0.1:8233/namespaces/default/workflows/" + id,
        accepted.path("links").path("temporalUi").asText());

    TEMPORAL
        .getWorkflowClient()
        .newWorkflowStub(FineTuneWorkflow.class, id)
        .reportProgress(new Progress(Phase.TRAINING, 12, 40, 1.25, 800.0, 35L, "training"));
    JsonNode view = body(call("/v1/runs/" + id).get());
    assertEquals("RUNNING", view.path("status").asText());
    assertEquals("TRAINING", view.path("phase").asText());
    assertEquals(12, view.path("progress").path("step").asInt());
    assertEquals(40, view.path("progress").path("totalSteps").asInt());
    assertEquals(1.25, view.path("progress").path("loss").asDouble());
  }

  @Test
  void completedRunShowsTheResultAndTheMlflowLink() {
    String id = body(call("/v1/runs").post(Entity.json(SPEC))).path("runId").asText();
    TEMPORAL
        .getWorkflowClient()
        .newWorkflowStub(FineTuneWorkflow.class, id)
        .reportProgress(Progress.of(Phase.COMPLETED, "done"));
    TEMPORAL.getWorkflowClient().newUntypedWorkflowStub(id).getResult(Object.class);
    JsonNode view = body(call("/v1/runs/" + id).get());
    assertEquals("COMPLETED", view.path("status").asText());
    assertEquals(30, view.path("result").path("train").path("steps").asInt());
    assertEquals(2, view.path("result").path("spec").path("training").path("epochs").asInt());
    assertEquals(
        "http://127.0.0.1:5000/#/experiments/1/runs/abc123",
        view.path("links").path("mlflowRun").asText());
    assertTrue(view.path("progress").isMissingNode());
  }

  @Test
  void failedRunShowsTheFailureTypeAndMessage() {
    String spec = SPEC.replace("builtin:ecommerce-faq", "https://example.org/broken.json");
    String id = body(call("/v1/runs").post(Entity.json(spec))).path("runId").asText();
    JsonNode view = waitClosed(id);
    assertEquals("FAILED", view.path("status").asText());
    assertEquals("InvalidDataset", view.path("failure").path("type").asText());
    assertTrue(view.path("failure").path("message").asText().contains("broken.json"));
  }

  @Test
  void cancelStopsARunningRunAndACancelledRunCannotBeCancelledAgain() {
    String id = body(call("/v1/runs").post(Entity.json(SPEC))).path("runId").asText();
    Response r =
        call("/v1/runs/" + id + "/cancel").post(Entity.json("{\"reason\":\"wrong data\"}"));
    assertEquals(202, r.getStatus());
    JsonNode view = waitClosed(id);
    assertEquals("CANCELLED", view.path("status").asText());
    assertEquals("Cancelled", view.path("failure").path("type").asText());
    assertEquals("Cancelled: wrong data", view.path("failure").path("message").asText());
    Response again = call("/v1/runs/" + id + "/cancel").post(Entity.json("{}"));
    assertEquals(409, again.getStatus());
    assertTrue(body(again).path("message").asText().contains("only a running run"));
  }

  @Test
  void idempotencyKeyReturnsTheSameRunAndRejectsAnotherSpec() {
    Response first =
        call("/v1/runs").header("Idempotency-Key", "nightly-42").post(Entity.json(SPEC));
    assertEquals(201, first.getStatus());
    String id = body(first).path("runId").asText();
    assertEquals("finetune-key-nightly-42", id);

    // same meaning, other field order and an explicit default: the same run
    String same =
        "{\"training\":{\"epochs\":2},\"baseModel\":\"smollm2-135m-instruct\","
            + "\"evalFraction\":0.1,\"dataset\":\"builtin:ecommerce-faq\"}";
    Response second =
        call("/v1/runs").header("Idempotency-Key", "nightly-42").post(Entity.json(same));
    assertEquals(200, second.getStatus());
    JsonNode again = body(second);
    assertEquals(id, again.path("runId").asText());
    assertEquals(false, again.path("created").asBoolean());

    Response other =
        call("/v1/runs")
            .header("Idempotency-Key", "nightly-42")
            .post(Entity.json(SPEC.replace("\"epochs\":2", "\"epochs\":3")));
    assertEquals(409, other.getStatus());
    assertTrue(body(other).path("message").asText().contains("different run spec"));

    Response badKey =
        call("/v1/runs").header("Idempotency-Key", "no spaces allowed").post(Entity.json(SPEC));
    assertEquals(400, badKey.getStatus());
    assertTrue(body(badKey).path("message").asText().contains("Idempotency-Key"));
  }

  @Test
  void invalidSpecIsA400NamingEveryBadField() {
    String bad =
        "{\"dataset\":\"ftp://x/y\",\"baseModel\":\"smollm2-135m-instruct\",\"evalFraction\":0.9,"
            + "\"training\":{\"epochs\":0,\"learningRate\":2}}";
    Response r = call("/v1/runs").post(Entity.json(bad));
    assertEquals(400, r.getStatus());
    JsonNode error = body(r);
    assertEquals(
        List.of("dataset", "evalFraction", "training.epochs", "training.learningRate"),
        fields(error));
    assertTrue(error.toString().contains("unsupported scheme 'ftp'"), error.toString());
  }

  @Test
  void unknownFieldAndWrongTypeAre400sNamingTheField() {
    Response unknown =
        call("/v1/runs").post(Entity.json(SPEC.replace("\"epochs\":2", "\"epoch\":2")));
    assertEquals(400, unknown.getStatus());
    JsonNode u = body(unknown);
    assertEquals(List.of("training.epoch"), fields(u));
    assertTrue(u.toString().contains("epochs"), u.toString());

    Response wrongType =
        call("/v1/runs").post(Entity.json(SPEC.replace("\"epochs\":2", "\"epochs\":\"two\"")));
    assertEquals(400, wrongType.getStatus());
    assertEquals(List.of("training.epochs"), fields(body(wrongType)));

    Response notJson = call("/v1/runs").post(Entity.json("{\"dataset\": "));
    assertEquals(400, notJson.getStatus());

    Response empty = call("/v1/runs").post(Entity.json(""));
    assertEquals(400, empty.getStatus());
  }

  @Test
  void unknownRunIs404AndBadQueryParamsAre400() {
    Response missing = call("/v1/runs/finetune-nope").get();
    assertEquals(404, missing.getStatus());
    assertTrue(body(missing).path("message").asText().contains("finetune-nope"));

    Response tooMany =
        API.target("/v1/runs")
            .queryParam("limit", 0)
            .request()
            .header("Authorization", "Bearer " + TOKEN)
            .get();
    assertEquals(400, tooMany.getStatus());
    assertEquals(List.of("query param limit"), fields(body(tooMany)));
    Response badStatus =
        API.target("/v1/runs")
            .queryParam("status", "DONE")
            .request()
            .header("Authorization", "Bearer " + TOKEN)
            .get();
    assertEquals(400, badStatus.getStatus());
    assertEquals(List.of("query param status"), fields(body(badStatus)));
  }

  @Test
  void everyRunEndpointNeedsTheTokenButTheOpenApiDocumentDoesNot() {
    Response none = API.target("/v1/runs/finetune-x").request().get();
    assertEquals(401, none.getStatus());
    assertEquals("Bearer realm=\"loraflow\"", none.getHeaderString("WWW-Authenticate"));
    Response wrong =
        API.target("/v1/runs")
            .request()
            .header("Authorization", "Bearer nope")
            .post(Entity.json(SPEC));
    assertEquals(401, wrong.getStatus());
    Response retrain = API.target("/v1/retrain").request().post(Entity.json("{}"));
    assertEquals(401, retrain.getStatus());
    Response doc = API.target("/v1/openapi.json").request().get();
    assertEquals(200, doc.getStatus());
    assertEquals("3.1.0", body(doc).path("openapi").asText());
  }

  @Test
  void retrainStartsANewRunFromAnEarlierSpecWithOverrides() {
    String source = body(call("/v1/runs").post(Entity.json(SPEC))).path("runId").asText();
    String request =
        "{\"fromRun\":\""
            + source
            + "\",\"dataset\":\"s3://loraflow/datasets/new.jsonl\","
            + "\"overrides\":{\"training\":{\"learningRate\":0.0001},\"evalFraction\":0.2},"
            + "\"runName\":\"retrain-1\"}";
    Response r = call("/v1/retrain").post(Entity.json(request));
    assertEquals(201, r.getStatus());
    JsonNode out = body(r);
    assertEquals(source, out.path("sourceRun").asText());
    assertEquals("finetune-retrain-1", out.path("run").path("runId").asText());
    JsonNode spec = out.path("spec");
    assertEquals("s3://loraflow/datasets/new.jsonl", spec.path("dataset").asText());
    assertEquals(2, spec.path("training").path("epochs").asInt()); // kept from the source
    assertEquals(1e-4, spec.path("training").path("learningRate").asDouble());
    assertEquals(0.2, spec.path("evalFraction").asDouble());
    assertNull(out.get("schedule"));
    // the new run really runs with that spec
    assertEquals("s3://loraflow/datasets/new.jsonl", RUNS.specOf("finetune-retrain-1").dataset());
  }

  @Test
  void retrainNeedsExactlyOneSourceAndValidOverrides() {
    Response both =
        call("/v1/retrain").post(Entity.json("{\"fromRun\":\"a\",\"fromModelVersion\":\"m/1\"}"));
    assertEquals(400, both.getStatus());
    assertTrue(body(both).toString().contains("exactly one of fromRun or fromModelVersion"));

    String source = body(call("/v1/runs").post(Entity.json(SPEC))).path("runId").asText();
    Response bad =
        call("/v1/retrain")
            .post(
                Entity.json(
                    "{\"fromRun\":\"" + source + "\",\"overrides\":{\"training\":{\"loraR\":0}}}"));
    assertEquals(400, bad.getStatus());
    assertEquals(List.of("training.loraR"), fields(body(bad)));

    Response badEvery =
        call("/v1/retrain")
            .post(
                Entity.json(
                    "{\"fromRun\":\"" + source + "\",\"schedule\":{\"every\":[\"daily\"]}}"));
    assertEquals(400, badEvery.getStatus());
  }

  private static JsonNode waitClosed(String id) {
    for (int i = 0; i < 100; i++) {
      JsonNode view = body(call("/v1/runs/" + id).get());
      if (!"RUNNING".equals(view.path("status").asText())) {
        return view;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("run " + id + " still running");
  }
}
