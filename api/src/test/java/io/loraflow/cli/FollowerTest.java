package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.api.TestTemporal;
import io.loraflow.api.api.RunView;
import io.loraflow.api.core.RunService;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.RunSpec;
import io.temporal.testing.TestWorkflowEnvironment;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** On a terminal the follower redraws one line in place and clears it when the run closes. */
class FollowerTest {

  private static final TestWorkflowEnvironment TEMPORAL = TestTemporal.start();
  private static final RunService RUNS =
      new RunService(TEMPORAL.getWorkflowClient(), TestTemporal.LINKS, Clock.systemUTC());

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  @Test
  void redrawsInPlaceWithinTheWidthAndClearsAtTheEnd() throws Exception {
    String id =
        RUNS.start(
                new RunSpec(
                    "tty",
                    "builtin:ecommerce-faq",
                    null,
                    "smollm2-135m-instruct",
                    null,
                    null,
                    null,
                    null,
                    null),
                null)
            .runId();
    FineTuneWorkflow run = TEMPORAL.getWorkflowClient().newWorkflowStub(FineTuneWorkflow.class, id);
    run.reportProgress(new Progress(Phase.TRAINING, 7, 70, 2.25, 1500.0, 600L, ""));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CompletableFuture<Void> finish =
        CompletableFuture.runAsync(
            () -> {
              try {
                Thread.sleep(2500);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              run.reportProgress(Progress.of(Phase.COMPLETED, "done"));
            });
    RunView closed =
        new Follower(
                RUNS,
                new PrintStream(bytes, true, StandardCharsets.UTF_8),
                true,
                60,
                Clock.systemUTC())
            .follow(id);
    finish.get(10, TimeUnit.SECONDS);
    assertEquals("COMPLETED", closed.status());
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(out.startsWith("\r"), out);
    assertTrue(!out.contains("\n"), "a terminal gets no new lines: " + out);
    for (String frame : out.split("\r")) {
      assertTrue(frame.length() <= 59, frame.length() + ": " + frame);
    }
    // at 60 columns the speed field gives way to a 12-cell bar (loss rounded to 3 decimals)
    assertTrue(out.contains("train     [>           ]  7/70  10%  loss 2.250  ETA 10m00s"), out);
    assertTrue(out.endsWith("\r"), "the last line is cleared: " + out);
  }
}
