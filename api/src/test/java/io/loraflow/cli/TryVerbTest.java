package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dropwizard.util.Duration;
import io.loraflow.api.TestTemporal;
import io.loraflow.api.core.RunService;
import io.loraflow.api.core.TemporalSettings;
import io.loraflow.commandline.CommandLine;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.BaseModelRequest;
import io.loraflow.workflows.EvalRequest;
import io.loraflow.workflows.EvalResult;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.GpuActivities;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.RunLinks;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.TaskQueues;
import io.loraflow.workflows.TrainRequest;
import io.loraflow.workflows.TrainResult;
import io.loraflow.workflows.TryAdapterWorkflowImpl;
import io.loraflow.workflows.TryRequest;
import io.loraflow.workflows.TryResult;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.workflow.Workflow;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code loraflow try} through the command line against an in-memory Temporal: the real TryAdapter
 * workflow on the CPU queue and a GPU worker whose generate records what it was asked (the activity
 * itself is tested on the real engine by AdapterTrialTest). Shows that the prompt reaches the GPU
 * in the run's template with the run's adapter, and that bad arguments are usage errors that start
 * nothing.
 */
public class TryVerbTest {

  static final BaseModelRef MODEL =
      new BaseModelRef(
          "tiny-llama-random",
          "tiny-llama-random",
          "models/tiny-llama-random/",
          "models/tiny-llama-random/tokenizer.json",
          null,
          List.of(2),
          "llama");

  /** A FineTune run that completed at once with an adapter. */
  public static class CompletedFineTune implements FineTuneWorkflow {
    @Override
    public FineTuneResult run(RunSpec spec) {
      String id = Workflow.getInfo().getWorkflowId();
      return new FineTuneResult(
          id,
          spec,
          MODEL,
          null,
          null,
          new TrainResult("runs/" + id + "/adapter/", 30, 0.52, Map.of(), null, "abc123"),
          null,
          null,
          new RunLinks(null, null, null));
    }

    @Override
    public Progress progress() {
      return Progress.of(Phase.COMPLETED, "done");
    }

    @Override
    public void cancel(String reason) {}

    @Override
    public void admission(io.loraflow.workflows.admission.Admission admission) {}

    @Override
    public void reportProgress(Progress p) {}
  }

  static final List<TryRequest> ASKED = new CopyOnWriteArrayList<>();

  /** The GPU worker: answers with the prompt's length, records the request. */
  public static class RecordingGpu implements GpuActivities {
    @Override
    public BaseModelRef prepareBaseModel(BaseModelRequest request) {
      throw new UnsupportedOperationException();
    }

    @Override
    public TrainResult train(TrainRequest request) {
      throw new UnsupportedOperationException();
    }

    @Override
    public EvalResult evaluate(EvalRequest request) {
      throw new UnsupportedOperationException();
    }

    @Override
    public TryResult generate(TryRequest request) {
      ASKED.add(request);
      return new TryResult("Three to five business days.", 11, 7, true, 0.25);
    }
  }

  static TestWorkflowEnvironment temporal;
  static CommandLine cli;
  static final String RUN = "finetune-try-1";

  private ByteArrayOutputStream out = new ByteArrayOutputStream();
  private ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeAll
  static void start() {
    temporal = TestTemporal.unstarted();
    temporal
        .newWorker(TaskQueues.CPU)
        .registerWorkflowImplementationTypes(CompletedFineTune.class, TryAdapterWorkflowImpl.class);
    temporal.newWorker(TaskQueues.GPU).registerActivitiesImplementations(new RecordingGpu());
    temporal.start();
    var client = temporal.getWorkflowClient();
    client
        .newWorkflowStub(
            FineTuneWorkflow.class,
            WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId(RUN).build())
        .run(RunSpec.of("builtin:ecommerce-faq", "tiny-llama-random"));
    RunService runs = new RunService(client, TestTemporal.LINKS, Clock.systemUTC());
    cli =
        Loraflow.commandLine(
            StackSession.around(
                runs,
                new CliSettings(
                    new TemporalSettings("127.0.0.1:7233", "default", Duration.seconds(3)),
                    TestTemporal.LINKS)));
  }

  @AfterAll
  static void stop() {
    temporal.close();
  }

  private int exec(String... args) {
    out = new ByteArrayOutputStream();
    err = new ByteArrayOutputStream();
    return cli.execute(
        args,
        new Console(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of()));
  }

  @Test
  void theAdapterAnswersThePromptInTheRunsTemplateOnTheGpuQueue() throws Exception {
    ASKED.clear();
    assertEquals(
        ExitCodes.OK,
        exec("try", RUN, "--prompt", "How long does shipping take?", "--max-new-tokens", "32"),
        err.toString());
    assertEquals(
        "Three to five business days.\n"
            + "(finetune-try-1 on tiny-llama-random: 11 prompt tokens, 7 new, stopped at the end"
            + " token, 0.3 s; ",
        out.toString().substring(0, out.toString().indexOf("try-", 40)));
    TryRequest asked = ASKED.get(0);
    assertEquals("<human>: How long does shipping take?\n<assistant>:", asked.prompt());
    assertEquals("runs/finetune-try-1/adapter/", asked.adapterKey());
    assertEquals(MODEL, asked.model());
    assertEquals(32, asked.maxNewTokens());
    assertEquals(0.0, asked.temperature());
    assertEquals(42L, asked.seed());

    assertEquals(
        ExitCodes.OK,
        exec("try", RUN, "--prompt", "Q?", "--temperature", "0.7", "--seed", "3", "--json"));
    JsonNode json = new ObjectMapper().readTree(out.toString());
    assertEquals("Three to five business days.", json.path("answer").asText());
    assertTrue(json.path("tryId").asText().startsWith("try-"), out.toString());
    assertEquals(0.7, ASKED.get(1).temperature());
    assertEquals(3L, ASKED.get(1).seed());
  }

  @Test
  void badArgumentsAreUsageErrorsThatAskNothing() {
    ASKED.clear();
    assertEquals(ExitCodes.USAGE, exec("try", RUN));
    assertTrue(err.toString().contains("--prompt is required"), err.toString());
    assertEquals(ExitCodes.USAGE, exec("try", RUN, "--prompt", "q", "--max-new-tokens", "900"));
    assertTrue(err.toString().contains("900"), err.toString());
    assertEquals(ExitCodes.USAGE, exec("try", RUN, "--prompt", "q", "--temperature", "3"));
    assertEquals(ExitCodes.USAGE, exec("try", RUN, "--prompt", "   "));
    assertTrue(err.toString().contains("--prompt must be non-blank"), err.toString());
    assertEquals(ExitCodes.USAGE, exec("try", RUN, "--prompt", "x".repeat(4001)));
    assertTrue(err.toString().contains("at most 4000 characters, got 4001"), err.toString());
    assertTrue(ASKED.isEmpty());
  }

  @Test
  void aRunWithoutAnAdapterOrAnUnknownOneFailsWithWhy() {
    assertEquals(ExitCodes.FAILED, exec("try", "finetune-nope", "--prompt", "q"));
    assertTrue(err.toString().contains("finetune-nope"), err.toString());
  }

  @Test
  void helpNamesTheOptionsAndExamples() {
    assertEquals(ExitCodes.OK, exec("try", "--help"));
    String help = out.toString();
    for (String s :
        List.of("--prompt", "--max-new-tokens", "--temperature", "--seed", "--json", "examples:")) {
      assertTrue(help.contains(s), s + " in\n" + help);
    }
    assertEquals(ExitCodes.OK, exec("--help"));
    assertTrue(out.toString().contains("try"), out.toString());
  }
}
