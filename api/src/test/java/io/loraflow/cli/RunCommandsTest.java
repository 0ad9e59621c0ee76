package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.api.TestTemporal;
import io.loraflow.api.core.RunNotFoundException;
import io.loraflow.api.core.RunService;
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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run --follow}, {@code status}, {@code cancel} against an in-memory Temporal. */
class RunCommandsTest {

  private static final TestWorkflowEnvironment TEMPORAL = TestTemporal.start();
  private static final RunService RUNS =
      new RunService(TEMPORAL.getWorkflowClient(), TestTemporal.LINKS, Clock.systemUTC());

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
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    RunCommands commands =
        new RunCommands(RUNS, new PrintStream(bytes, true, StandardCharsets.UTF_8));
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
    int code = commands.run(List.of(spec.toString(), "--follow"));
    script.get(10, TimeUnit.SECONDS);
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, out);
    assertTrue(out.contains("started finetune-follow-me"), out);
    assertTrue(out.contains("train     ["), out); // not a terminal: one line per phase
    assertTrue(out.contains("5/20  25%  loss 1.5000  640 tok/s  ETA 1m30s"), out);
    assertTrue(out.contains("run finetune-follow-me  COMPLETED"), out);
    assertTrue(out.contains("train    30 steps, final loss 0.5200"), out);
    assertTrue(out.contains("MLflow   http://127.0.0.1:5000/#/experiments/1/runs/abc123"), out);
  }

  @Test
  void cancelThenStatusShowsTheCancelledRunAndExitCode1() throws Exception {
    Path spec = dir.resolve("spec.json");
    Files.writeString(
        spec,
        "{\"runName\":\"cancel-me\",\"dataset\":\"builtin:ecommerce-faq\","
            + "\"baseModel\":\"smollm2-135m-instruct\"}");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    RunCommands commands =
        new RunCommands(RUNS, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    assertEquals(0, commands.run(List.of(spec.toString())));
    assertEquals(0, commands.cancel(List.of("finetune-cancel-me", "--reason", "typo in data")));
    int code = commands.followAndPrint("finetune-cancel-me");
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(1, code, out);
    assertTrue(out.contains("failure  Cancelled: Cancelled: typo in data"), out);
    assertThrows(RunNotFoundException.class, () -> commands.status(List.of("finetune-none")));
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
