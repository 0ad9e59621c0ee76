package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dropwizard.util.Duration;
import io.loraflow.api.TestTemporal;
import io.loraflow.api.core.RunService;
import io.loraflow.api.core.TemporalSettings;
import io.loraflow.commandline.CommandLine;
import io.loraflow.commandline.Console;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.temporal.testing.TestWorkflowEnvironment;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run --follow}, {@code status}, {@code cancel}, {@code list} through the command line
 * (parsing included) against an in-memory Temporal.
 */
class RunCommandsTest {

  private static final TestWorkflowEnvironment TEMPORAL = TestTemporal.start();
  private static final RunService RUNS =
      new RunService(TEMPORAL.getWorkflowClient(), TestTemporal.LINKS, Clock.systemUTC());
  private static final CliSettings SETTINGS =
      new CliSettings(
          new TemporalSettings("127.0.0.1:7233", "default", Duration.seconds(3)),
          TestTemporal.LINKS);
  private static final CommandLine CLI = Loraflow.commandLine(StackSession.around(RUNS, SETTINGS));

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final Console console =
      new Console(
          new PrintStream(bytes, true, StandardCharsets.UTF_8),
          new PrintStream(errBytes, true, StandardCharsets.UTF_8),
          Map.of("LORAFLOW_STATE_DIR", "/nonexistent-state"));

  private int exec(String... args) {
    return CLI.execute(args, console);
  }

  @TempDir Path dir;

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  @Test
  void runFollowShowsProgressLinesAndTheResult() throws Exception {
    Path spec = dir.resolve("spec.yaml");
    Files.writeString(
        spec,
        "runName: follow-me\ndataset: builtin:ecommerce-faq\nbaseModel: smollm2-135m-instruct\n");
    FineTuneWorkflow run =
        TEMPORAL.getWorkflowClient().newWorkflowStub(FineTuneWorkflow.class, "finetune-follow-me");
    CompletableFuture<Void> script =
        CompletableFuture.runAsync(
            () -> {
              sleep(1500);
              run.reportProgress(new Progress(Phase.TRAINING, 5, 20, 1.5, 640.0, 90L, ""));
              sleep(2500);
              run.reportProgress(Progress.of(Phase.COMPLETED, "done"));
            });
    int code = exec("run", spec.toString(), "--follow");
    script.get(10, TimeUnit.SECONDS);
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, out);
    assertTrue(out.contains("started finetune-follow-me"), out);
    assertTrue(out.contains("train     ["), out); // not a terminal: one line per phase
    assertTrue(out.contains("5/20  25%  loss 1.500  640 tok/s  ETA 1m30s"), out);
    assertTrue(out.contains("run finetune-follow-me  COMPLETED\n"), out); // no "(COMPLETED)"
    assertTrue(out.contains("train    30 steps, final loss 0.520"), out);
    assertTrue(out.contains("MLflow   http://127.0.0.1:5000/#/experiments/1/runs/abc123"), out);
  }

  @Test
  void cancelThenStatusShowsTheCancelledRunAndExitCode1() throws Exception {
    Path spec = dir.resolve("spec.json");
    Files.writeString(
        spec,
        "{\"runName\":\"cancel-me\",\"dataset\":\"builtin:ecommerce-faq\","
            + "\"baseModel\":\"smollm2-135m-instruct\"}");
    assertEquals(0, exec("run", spec.toString()));
    assertEquals(0, exec("cancel", "finetune-cancel-me", "--reason", "typo in data"));
    int code = exec("status", "finetune-cancel-me", "--follow");
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(1, code, out);
    assertTrue(out.contains("failure  Cancelled: Cancelled: typo in data"), out);
    assertEquals(1, exec("status", "finetune-none"));
    assertTrue(
        errBytes.toString(StandardCharsets.UTF_8).contains("finetune-none"),
        errBytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void listShowsOneSpellingAndCancelledRunsAsCancelled() {
    assertEquals("CANCELLED", RunCommands.ListRuns.statusWord("CANCELED", null));
    assertEquals("CANCELLED", RunCommands.ListRuns.statusWord("FAILED", "CANCELLED"));
    assertEquals("CANCELLED", RunCommands.ListRuns.statusWord("FAILED", "CANCELED"));
    assertEquals("FAILED", RunCommands.ListRuns.statusWord("FAILED", "TRAINING"));
    assertEquals("RUNNING", RunCommands.ListRuns.statusWord("RUNNING", null));
  }

  @Test
  void helpListsEveryRunSpecFieldWithItsDefaultAndBadArgumentsExit2WithoutConnecting() {
    assertEquals(0, exec("run", "--help"));
    String help = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(help.startsWith("usage: loraflow run [-h] [--follow] [--key K] SPEC"), help);
    for (SpecFields.Field f : SpecFields.fields()) {
      assertTrue(help.contains("  " + f.path() + " "), f.path() + " missing in\n" + help);
    }
    assertTrue(help.contains("training.warmupRatio"), help);
    assertTrue(help.contains("[0.05]"), help); // the default, read from TrainingSpec
    assertTrue(help.contains("loraflow run spec.yaml --follow"), help);
    assertEquals(2, exec("run", "spec.yaml", "--folow"));
    String err = errBytes.toString(StandardCharsets.UTF_8);
    assertTrue(err.contains("Did you mean") && err.contains("--follow"), err);
    assertEquals(2, exec("stauts", "x"));
    assertTrue(errBytes.toString(StandardCharsets.UTF_8).contains("status"));
    assertEquals(2, exec("list", "--limit", "0"));
    assertTrue(errBytes.toString(StandardCharsets.UTF_8).contains("--limit must be >= 1, got 0"));
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
