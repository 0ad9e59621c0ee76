package io.loraflow.api.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.dropwizard.testing.junit5.ResourceExtension;
import io.loraflow.api.LoraflowApplication;
import io.loraflow.api.TestTemporal;
import io.loraflow.api.core.RunService;
import io.loraflow.workflows.SweepChild;
import io.loraflow.workflows.SweepResult;
import io.loraflow.workflows.SweepSpec;
import io.loraflow.workflows.SweepWorkflow;
import io.loraflow.workflows.TaskQueues;
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

/** POST/GET /v1/sweeps against an in-memory Temporal running a scripted Sweep. */
@ExtendWith(DropwizardExtensionsSupport.class)
class SweepsResourceTest {

  private static final String TOKEN = "test-token-0123456789abcdef";
  private static final ObjectMapper JSON = Jackson.newObjectMapper();

  /** The Sweep contract with a canned outcome: one child per grid entry, the first one best. */
  public static class ScriptedSweep implements SweepWorkflow {
    private final List<SweepChild> children = new ArrayList<>();

    @Override
    public SweepResult run(SweepSpec spec) {
      String id = io.temporal.workflow.Workflow.getInfo().getWorkflowId();
      for (int i = 0; i < spec.grid().size(); i++) {
        children.add(
            new SweepChild(
                i, id + "-c" + i, 4, 8, 1e-3, 1, "COMPLETED", null, 1.0 + i, 0.5, "ml" + i));
      }
      return new SweepResult(id, "parent", children, 0, null, null);
    }

    @Override
    public List<SweepChild> children() {
      return children;
    }
  }

  private static final TestWorkflowEnvironment TEMPORAL = start();
  private static final RunService RUNS =
      new RunService(TEMPORAL.getWorkflowClient(), TestTemporal.LINKS, Clock.systemUTC());
  static final ResourceExtension API = build();

  private static TestWorkflowEnvironment start() {
    TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance();
    env.newWorker(TaskQueues.CPU).registerWorkflowImplementationTypes(ScriptedSweep.class);
    env.start();
    return env;
  }

  private static ResourceExtension build() {
    ResourceExtension.Builder b =
        ResourceExtension.builder()
            .setMapper(LoraflowApplication.apiMapper(Jackson.newObjectMapper()));
    io.loraflow.api.core.ApiServices services =
        io.loraflow.api.core.ApiServices.connect(
            RUNS,
            ScheduleClient.newInstance(TEMPORAL.getWorkflowServiceStubs()),
            URI.create("http://127.0.0.1:1"));
    for (Object c :
        LoraflowApplication.jerseyComponents(
            services, new io.loraflow.api.auth.ApiKeys(null, TOKEN), "test")) {
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

  @Test
  void startsASweepAndShowsItsChildrenAndResult() throws Exception {
    String spec =
        "{\"base\":{\"runName\":\"grid1\",\"dataset\":\"builtin:ecommerce-faq\","
            + "\"baseModel\":\"smollm2-135m-instruct\"},"
            + "\"grid\":{\"loraR\":[8,16],\"learningRate\":[2e-4,1e-3]},\"maxConcurrent\":2}";
    Response r = call("/v1/sweeps").post(Entity.json(spec));
    assertEquals(201, r.getStatus());
    JsonNode accepted = body(r);
    assertEquals("sweep-grid1", accepted.path("sweepId").asText());
    assertEquals(4, accepted.path("children").asInt());
    assertEquals("/v1/sweeps/sweep-grid1", r.getLocation().getPath());
    TEMPORAL.getWorkflowClient().newUntypedWorkflowStub("sweep-grid1").getResult(SweepResult.class);

    JsonNode view = body(call("/v1/sweeps/sweep-grid1").get());
    assertEquals("COMPLETED", view.path("status").asText());
    assertEquals(4, view.path("children").size());
    assertEquals(0, view.path("result").path("bestIndex").asInt());
    // the same name again while it did not fail: a conflict, not a second sweep
    assertEquals(409, call("/v1/sweeps").post(Entity.json(spec)).getStatus());
  }

  @Test
  void badSweepSpecsAre400WithEveryProblemAndUnknownSweepsAre404() {
    Response r =
        call("/v1/sweeps")
            .post(
                Entity.json(
                    "{\"base\":{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"gpt-17\"},"
                        + "\"grid\":{\"loraR\":[0]},\"maxConcurrent\":99}"));
    assertEquals(400, r.getStatus());
    String text = body(r).toString();
    assertTrue(text.contains("\"field\":\"grid.loraR[0]\""), text);
    assertTrue(text.contains("\"field\":\"maxConcurrent\""), text);
    // well-formed but not a valid sweep: the spec's own checks name the problem
    Response unknownModel =
        call("/v1/sweeps")
            .post(
                Entity.json(
                    "{\"base\":{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"gpt-17\"},"
                        + "\"grid\":{\"loraR\":[4, 8]}}"));
    assertEquals(400, unknownModel.getStatus());
    String why = body(unknownModel).toString();
    assertTrue(why.contains("gpt-17"), why);
    assertEquals(400, call("/v1/sweeps").post(Entity.json("{\"grid\":{}}")).getStatus());
    assertEquals(404, call("/v1/sweeps/sweep-nothing-here").get().getStatus());
  }
}
