package io.loraflow.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.api.api.RunAccepted;
import io.loraflow.api.api.RunView;
import io.loraflow.api.core.RunService;
import io.loraflow.api.core.TemporalClients;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.TaskQueues;
import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import io.temporal.api.enums.v1.TaskQueueType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.DescribeTaskQueueRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code loraflow demo}: the README's main job, end to end on one machine.
 *
 * <ol>
 *   <li>{@code deploy/local/stack.sh up} (Temporal, MinIO, MLflow; idempotent)
 *   <li>a CPU worker and a GPU worker as child processes of this JVM (logs in the state dir)
 *   <li>a real FineTune run: SmolLM2-135M-Instruct on the bundled {@code builtin:ecommerce-faq}, on
 *       the CPU, followed with the live progress line
 *   <li>the result, a before/after table of held-out answers (from the evaluation report) and the
 *       links to the Temporal UI, MLflow and the MinIO console
 *   <li>the workers it started are stopped (SIGTERM, then kill after 150 s); the stack stays up so
 *       the links work ({@code loraflow stack down} stops it)
 * </ol>
 */
final class DemoCommand {

  static final String DATASET = "builtin:ecommerce-faq";
  static final String BASE_MODEL = "smollm2-135m-instruct";

  private static final Duration WORKER_READY_TIMEOUT = Duration.ofMinutes(3);
  // the GPU worker gives a running training step 120 s to checkpoint and upload on SIGTERM
  private static final Duration WORKER_STOP_GRACE = Duration.ofSeconds(150);

  private final PrintStream out;
  private final PrintStream err;
  private final List<Process> children = new ArrayList<>();

  DemoCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  int run(List<String> argv) throws Exception {
    Args a =
        Args.parse(
            "demo",
            argv,
            Set.of("--epochs", "--eval-prompts", "--rows", "--base-model", "--preset"),
            Set.of("--no-stack", "--no-workers"));
    Path home = repoRoot();
    Map<String, String> env = System.getenv();
    if (!a.flag("--no-stack")) {
      step("1/5", "stack up (Temporal, MinIO, MLflow)");
      runScript(home.resolve("deploy/local/stack.sh"), "up");
    }
    CliSettings settings = CliSettings.load(env);
    Path state = io.loraflow.api.StackEnvLookup.stateDir(env).toAbsolutePath();
    Path logs = state.resolve("logs");
    Files.createDirectories(logs);
    Thread stopper = new Thread(this::stopWorkers, "demo-stop-workers");
    Runtime.getRuntime().addShutdownHook(stopper);
    try (TemporalClients temporal = TemporalClients.connect(settings.temporal())) {
      if (!a.flag("--no-workers")) {
        step("2/5", "starting a CPU worker and a GPU worker (logs: " + logs + ")");
        startWorker("cpu", state, logs);
        startWorker("gpu", state, logs);
        awaitPollers(temporal, TaskQueues.CPU, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, logs);
        awaitPollers(temporal, TaskQueues.GPU, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, logs);
      }
      RunService runs = settings.runService(temporal);
      RunSpec spec = demoSpec(a);
      step("3/5", "fine-tuning " + spec.baseModel() + " on " + DATASET);
      RunAccepted accepted = runs.start(spec, null);
      out.println("run " + accepted.runId());
      ResultPrinter.printLinks(accepted.links(), out);
      RunView closed =
          new Follower(runs, out, Terminal.interactive(), Terminal.width(), Clock.systemUTC())
              .follow(accepted.runId());
      step("4/5", "result");
      ResultPrinter.print(closed, settings.links().bucket(), out);
      if (closed.result() != null && closed.result().eval() != null) {
        printAnswers(settings, closed.result().eval().reportJsonKey(), intArg(a, "--rows", 4));
      }
      step("5/5", "stopping the workers this demo started");
      stopWorkers();
      out.println();
      out.println("look around:");
      ResultPrinter.printLinks(closed.links(), out);
      out.println(
          "  MinIO console login: see LORAFLOW_S3_ACCESS_KEY / _SECRET_KEY in .state/stack.env");
      out.println("the stack is still up; stop it with: loraflow stack down");
      return RunCommands.exitCode(closed);
    } finally {
      stopWorkers();
      try {
        Runtime.getRuntime().removeShutdownHook(stopper);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running already
      }
    }
  }

  /** The run spec of the chosen preset ({@link DemoPresets}), with a shorter evaluation. */
  static RunSpec demoSpec(Args a) {
    String epochs = a.value("--epochs", null);
    try {
      return DemoPresets.spec(
          a.value("--preset", DemoPresets.DEFAULT),
          DATASET,
          a.value("--base-model", BASE_MODEL),
          epochs == null ? null : intArg(a, "--epochs", 1),
          intArg(a, "--eval-prompts", 8));
    } catch (IllegalArgumentException e) {
      throw new Args.UsageException(e.getMessage());
    }
  }

  private void startWorker(String kind, Path state, Path logs) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path log = logs.resolve("demo-worker-" + kind + ".log");
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    String opts = System.getenv("LORAFLOW_WORKER_JAVA_OPTS");
    if (opts != null && !opts.isBlank()) {
      cmd.addAll(List.of(opts.trim().split("\\s+")));
    }
    cmd.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            Loraflow.class.getName(),
            "worker",
            kind));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    // the workers read the stack's settings from the same state dir as this process
    pb.environment().put("LORAFLOW_STATE_DIR", state.toString());
    Process p = pb.start();
    children.add(p);
    out.println("  " + kind + " worker pid " + p.pid() + ", log " + log);
  }

  /** Waits until a worker polls {@code queue}; fails early with the log tail if a worker died. */
  private void awaitPollers(TemporalClients temporal, String queue, TaskQueueType type, Path logs)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(WORKER_READY_TIMEOUT);
    while (Instant.now().isBefore(deadline)) {
      for (Process p : children) {
        if (!p.isAlive()) {
          throw new IllegalStateException(
              "a worker (pid " + p.pid() + ") exited with " + p.exitValue() + "; see " + logs);
        }
      }
      int pollers =
          temporal
              .stubs()
              .blockingStub()
              .describeTaskQueue(
                  DescribeTaskQueueRequest.newBuilder()
                      .setNamespace(temporal.workflows().getOptions().getNamespace())
                      .setTaskQueue(TaskQueue.newBuilder().setName(queue).build())
                      .setTaskQueueType(type)
                      .build())
              .getPollersCount();
      if (pollers > 0) {
        out.println("  " + queue + ": " + pollers + " poller(s)");
        return;
      }
      Thread.sleep(1000);
    }
    throw new IllegalStateException(
        "no worker polled "
            + queue
            + " within "
            + WORKER_READY_TIMEOUT.toSeconds()
            + " s; see "
            + logs);
  }

  private synchronized void stopWorkers() {
    for (Process p : children) {
      p.destroy(); // SIGTERM: the worker checkpoints and shuts down gracefully
    }
    for (Process p : children) {
      try {
        if (!p.waitFor(WORKER_STOP_GRACE.toSeconds(), TimeUnit.SECONDS)) {
          err.println("worker pid " + p.pid() + " did not stop in time; killing it");
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    children.clear();
  }

  private void printAnswers(CliSettings settings, String reportKey, int rows) {
    if (reportKey == null) {
      return;
    }
    StackS3 s3 = StackS3.load(System.getenv(), settings);
    try (InputStream in =
        s3.client()
            .getObject(
                GetObjectArgs.builder()
                    .bucket(settings.links().bucket())
                    .object(reportKey)
                    .build())) {
      JsonNode report = new ObjectMapper().readTree(in);
      List<AnswerTable.Row> table = AnswerTable.rowsOf(report.path("rows"));
      List<AnswerTable.Row> seen = AnswerTable.rowsOf(report.path("seenRows"));
      if (table.isEmpty()) {
        out.println(
            "(no per-question answers in s3://"
                + settings.links().bucket()
                + "/"
                + reportKey
                + ")");
        return;
      }
      out.println();
      out.println(
          "before/after on held-out questions ("
              + Math.min(rows, table.size())
              + " of "
              + table.size()
              + "):");
      out.print(AnswerTable.render(table, Terminal.width(), rows, 4));
      if (!seen.isEmpty()) {
        out.println();
        out.println(
            "before/after on seen (training) questions ("
                + Math.min(rows, seen.size())
                + " of "
                + seen.size()
                + "):");
        out.print(AnswerTable.render(seen, Terminal.width(), rows, 4));
      }
    } catch (Exception e) {
      err.println("could not read the evaluation report " + reportKey + ": " + e.getMessage());
    }
  }

  private void step(String n, String what) {
    out.println();
    out.println("== " + n + " " + what);
  }

  private void runScript(Path script, String... args) throws IOException, InterruptedException {
    if (!Files.isExecutable(script)) {
      throw new IllegalStateException(
          script
              + " not found or not executable; run the demo from the repository (./loraflow demo)");
    }
    List<String> cmd = new ArrayList<>(List.of(script.toString()));
    cmd.addAll(List.of(args));
    int code = new ProcessBuilder(cmd).inheritIO().start().waitFor();
    if (code != 0) {
      throw new IllegalStateException(
          script.getFileName() + " " + String.join(" ", args) + " failed (exit " + code + ")");
    }
  }

  /** {@code $LORAFLOW_HOME} (set by the launcher), else the current directory. */
  static Path repoRoot() {
    String home = System.getenv("LORAFLOW_HOME");
    return Path.of(home != null && !home.isBlank() ? home : ".").toAbsolutePath().normalize();
  }

  private static int intArg(Args a, String name, int fallback) {
    String v = a.value(name, null);
    if (v == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new Args.UsageException("demo: " + name + " must be a number, got '" + v + "'");
    }
  }

  /** The stack's MinIO, with the keys from LORAFLOW_S3_* or stack.env. */
  record StackS3(MinioClient client) {
    static StackS3 load(Map<String, String> env, CliSettings settings) {
      io.loraflow.api.StackEnvLookup lookup = new io.loraflow.api.StackEnvLookup(env);
      String access = lookup.lookup("LORAFLOW_S3_ACCESS_KEY");
      String secret = lookup.lookup("LORAFLOW_S3_SECRET_KEY");
      if (access == null || secret == null) {
        throw new IllegalStateException(
            "LORAFLOW_S3_ACCESS_KEY/LORAFLOW_S3_SECRET_KEY not set and not in .state/stack.env");
      }
      return new StackS3(
          MinioClient.builder()
              .endpoint(settings.links().s3Endpoint().toString())
              .credentials(access, secret)
              .build());
    }
  }
}
