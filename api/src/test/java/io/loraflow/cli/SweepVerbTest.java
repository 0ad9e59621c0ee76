package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dropwizard.util.Duration;
import io.loraflow.api.TestTemporal;
import io.loraflow.api.api.SweepView;
import io.loraflow.api.core.RunService;
import io.loraflow.api.core.TemporalSettings;
import io.loraflow.commandline.CommandLine;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import io.loraflow.workflows.SweepChild;
import io.loraflow.workflows.SweepWorkflow;
import io.temporal.testing.TestWorkflowEnvironment;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sweep start|status} through the command line against an in-memory Temporal. */
class SweepVerbTest {

  private static final TestWorkflowEnvironment TEMPORAL = TestTemporal.start();
  private static final RunService RUNS =
      new RunService(TEMPORAL.getWorkflowClient(), TestTemporal.LINKS, Clock.systemUTC());
  private static final CommandLine CLI =
      Loraflow.commandLine(
          StackSession.around(
              RUNS,
              new CliSettings(
                  new TemporalSettings("127.0.0.1:7233", "default", Duration.seconds(3)),
                  TestTemporal.LINKS)));

  @TempDir Path dir;
  private ByteArrayOutputStream out = new ByteArrayOutputStream();
  private ByteArrayOutputStream err = new ByteArrayOutputStream();

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  private int exec(String... args) {
    out = new ByteArrayOutputStream();
    err = new ByteArrayOutputStream();
    return CLI.execute(
        args,
        new Console(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of()));
  }

  private Path file(String name, String text) throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, text);
    return f;
  }

  @Test
  void startsTheSweepWorkflowFromAYamlSpecAndShowsIt() throws Exception {
    Path spec =
        file(
            "sweep.yaml",
            """
            base:
              runName: faq-grid
              dataset: builtin:ecommerce-faq
              baseModel: tiny-llama-random
            grid:
              loraR: [4, 8]
              learningRate: [0.001, 0.0002]
            maxConcurrent: 1
            """);
    assertEquals(ExitCodes.OK, exec("sweep", "start", spec.toString()), err.toString());
    assertTrue(out.toString().contains("sweep sweep-faq-grid started: 4 children"), out.toString());

    // the Sweep workflow really started (no worker here: it waits on the CPU queue)
    assertEquals(
        SweepWorkflow.TYPE,
        TEMPORAL
            .getWorkflowClient()
            .newUntypedWorkflowStub("sweep-faq-grid")
            .describe()
            .getWorkflowType());

    assertEquals(ExitCodes.OK, exec("sweep", "status", "sweep-faq-grid"));
    assertTrue(out.toString().startsWith("sweep sweep-faq-grid  RUNNING"), out.toString());

    // the same id again: a conflict, not a second sweep
    assertEquals(ExitCodes.FAILED, exec("sweep", "start", spec.toString()));
    assertTrue(err.toString().contains("already exists"), err.toString());
  }

  @Test
  void unknownFieldsAndBadGridsAreNamedAndStartNothing() throws Exception {
    Path typo =
        file(
            "typo.yaml",
            "base: {dataset: 'builtin:ecommerce-faq', baseModel: tiny-llama-random}\n"
                + "gird: {loraR: [4]}\n");
    assertEquals(ExitCodes.FAILED, exec("sweep", "start", typo.toString()));
    assertTrue(err.toString().contains("unknown sweep spec field 'gird'"), err.toString());

    Path badGrid =
        file(
            "bad.json",
            "{\"base\": {\"runName\": \"bad-grid\", \"dataset\": \"builtin:ecommerce-faq\","
                + " \"baseModel\": \"tiny-llama-random\"}, \"grid\": {\"loraR\": [0]}}");
    assertEquals(ExitCodes.FAILED, exec("sweep", "start", badGrid.toString()));
    assertTrue(err.toString().contains("loraR"), err.toString());

    assertEquals(ExitCodes.FAILED, exec("sweep", "status", "sweep-nope"));
  }

  @Test
  void theChildTableShowsEachLearningRateWithItsSignificantDigits() {
    SweepView view =
        new SweepView(
            "sweep-lr",
            "RUNNING",
            List.of(
                new SweepChild(
                    0, "sweep-lr-c0", 8, 32, 1.0e-3, 1, "RUNNING", null, null, null, null),
                new SweepChild(
                    1, "sweep-lr-c1", 8, 32, 2.5e-3, 1, "RUNNING", null, null, null, null)),
            null,
            null,
            "http://ui");
    ByteArrayOutputStream table = new ByteArrayOutputStream();
    SweepVerb.print(view, new PrintStream(table, true, StandardCharsets.UTF_8));
    String text = table.toString(StandardCharsets.UTF_8);
    // 2.5e-3 once printed as 0.003 (three decimals): not the value the grid asked for
    assertTrue(text.contains(" 0.0025 "), text);
    assertTrue(text.contains(" 0.001 "), text);
    assertFalse(text.contains("0.003"), text);
  }
}
