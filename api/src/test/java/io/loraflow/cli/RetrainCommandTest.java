package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dropwizard.util.Duration;
import io.loraflow.api.TestTemporal;
import io.loraflow.api.core.RunService;
import io.loraflow.api.core.TemporalSettings;
import io.loraflow.commandline.CommandLine;
import io.loraflow.commandline.Console;
import io.loraflow.workflows.RunSpec;
import io.temporal.testing.TestWorkflowEnvironment;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** {@code retrain} through the command line against an in-memory Temporal. */
class RetrainCommandTest {

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

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  private int exec(String... args) {
    return CLI.execute(
        args,
        new Console(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of()));
  }

  @Test
  void startsANewRunFromAnEarlierSpecWithOverrides() {
    RUNS.start(
        new RunSpec(
            "source",
            "builtin:ecommerce-faq",
            null,
            "smollm2-135m-instruct",
            null,
            null,
            null,
            null,
            null),
        null);
    int code =
        exec(
            "retrain",
            "--from-run",
            "finetune-source",
            "--set",
            "training.epochs=2",
            "--set",
            "training.learningRate=0.0001",
            "--set",
            "template=chat",
            "--name",
            "again");
    assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    String text = out.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("retrain from finetune-source"), text);
    assertTrue(text.contains("started finetune-again"), text);
    RunSpec spec = RUNS.specOf("finetune-again");
    assertEquals(2, spec.training().epochs());
    assertEquals(1e-4, spec.training().learningRate());
    assertEquals("chat", spec.template());
    assertEquals("builtin:ecommerce-faq", spec.dataset());
  }

  @Test
  void badRequestsAreUsageErrorsNamingEachProblem() {
    assertEquals(2, exec("retrain", "--dataset", "builtin:ecommerce-faq"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--from-run"), err.toString());
    err.reset();
    assertEquals(2, exec("retrain", "--from-run", "a", "--from-version", "m@champion"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("not allowed with"), err.toString());
    err.reset();
    assertEquals(2, exec("retrain", "--from-run", "a", "--no-run-now"));
    assertTrue(
        err.toString(StandardCharsets.UTF_8).contains("runNow=false needs a schedule"),
        err.toString());
    err.reset();
    assertEquals(2, exec("retrain", "--from-run", "a", "--every", "soon", "--every", "0h"));
    assertTrue(
        err.toString(StandardCharsets.UTF_8).contains("--every must be a number and a unit"),
        err.toString());
    err.reset();
    assertEquals(2, exec("retrain", "--from-run", "a", "--set", "epochs"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("FIELD=VALUE"), err.toString());
  }

  @Test
  void setBuildsNestedOverridesWithJsonValues() {
    var o = RetrainCommand.overrides(List.of("training.epochs=3", "training.seed=7", "runName=x"));
    assertEquals(3, o.path("training").path("epochs").asInt());
    assertEquals(7, o.path("training").path("seed").asInt());
    assertEquals("x", o.path("runName").asText());
    assertEquals(
        "[\"q_proj\",\"v_proj\"]",
        RetrainCommand.overrides(List.of("training.targetModules=[\"q_proj\",\"v_proj\"]"))
            .path("training")
            .path("targetModules")
            .toString());
  }
}
