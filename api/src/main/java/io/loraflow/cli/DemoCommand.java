package io.loraflow.cli;

import io.loraflow.api.api.RunAccepted;
import io.loraflow.api.api.RunView;
import io.loraflow.api.core.RunService;
import io.loraflow.api.core.TemporalClients;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.Console;
import io.loraflow.infra.StackEnvFile;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.TaskQueues;
import io.temporal.api.enums.v1.TaskQueueType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.DescribeTaskQueueRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

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
final class DemoCommand implements Command {

  static final String DATASET = "builtin:ecommerce-faq";
  static final String BASE_MODEL = "smollm2-135m-instruct";

  private static final Duration WORKER_READY_TIMEOUT = Duration.ofMinutes(3);
  // the GPU worker gives a running training step 120 s to checkpoint and upload on SIGTERM
  private static final Duration WORKER_STOP_GRACE = Duration.ofSeconds(150);

  private final List<Process> children = new ArrayList<>();
  private PrintStream out = System.out;
  private PrintStream err = System.err;

  @Override
  public String name() {
    return "demo";
  }

  @Override
  public String summary() {
    return "the whole thing on this machine: stack up, CPU + GPU workers, fine-tune"
        + " SmolLM2-135M-Instruct on the sample FAQ, live progress, before/after answers, links";
  }

  @Override
  public String epilog() {
    return "The workers run from the engine jar (LORAFLOW_ENGINE_JAR, set by ./loraflow) as child"
        + " processes, with their logs in <state>/logs; they are stopped at the end, the stack"
        + " stays up (./loraflow stack down stops it).\n"
        + "examples:\n  ./loraflow demo\n  ./loraflow demo --epochs 2 --rows 8";
  }

  @Override
  public void configure(Subparser p) {
    p.addArgument("--preset")
        .choices(DemoPresets.NAMES)
        .setDefault(DemoPresets.DEFAULT)
        .help(
            "training recipe: learns (3 epochs, batch 2, lr 2.5e-3, dropout 0, the best epoch kept) or seed"
                + " (the seed's recipe: the run-spec defaults)");
    p.addArgument("--epochs").type(Integer.class).help("training epochs (default: the preset's)");
    p.addArgument("--eval-prompts")
        .type(Integer.class)
        .setDefault(8)
        .help("held-out questions answered before/after");
    p.addArgument("--rows").type(Integer.class).setDefault(4).help("rows of the answer table");
    p.addArgument("--base-model").setDefault(BASE_MODEL).help("base model alias or URI");
    p.addArgument("--no-stack")
        .action(Arguments.storeTrue())
        .help("do not run `stack up` (use the stack the LORAFLOW_* settings name)");
    p.addArgument("--no-workers")
        .action(Arguments.storeTrue())
        .help("do not start workers (use workers already polling the stack)");
  }

  @Override
  public int run(Namespace a, Console console) throws Exception {
    this.out = console.out();
    this.err = console.err();
    Map<String, String> env = console.env();
    Path home = repoRoot(env);
    if (!a.getBoolean("no_stack")) {
      step("1/5", "stack up (Temporal, MinIO, MLflow)");
      runScript(home.resolve("deploy/local/stack.sh"), "up");
    }
    CliSettings settings = CliSettings.load(env);
    Path state = StackEnvFile.stateDir(env).toAbsolutePath();
    Path logs = state.resolve("logs");
    Files.createDirectories(logs);
    Thread stopper = new Thread(this::stopWorkers, "demo-stop-workers");
    Runtime.getRuntime().addShutdownHook(stopper);
    try (TemporalClients temporal = TemporalClients.connect(settings.temporal())) {
      if (!a.getBoolean("no_workers")) {
        step("2/5", "starting a CPU worker and a GPU worker (logs: " + logs + ")");
        Path engine = engineJar(env, home);
        startWorker(engine, "cpu", state, logs);
        startWorker(engine, "gpu", state, logs);
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
      Reports.printAnswers(settings, closed, a.getInt("rows"), console);
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
  static RunSpec demoSpec(Namespace a) {
    return DemoPresets.spec(
        a.getString("preset"),
        DATASET,
        a.getString("base_model"),
        a.getInt("epochs"),
        a.getInt("eval_prompts"));
  }

  /**
   * The engine jar the workers run from: {@code $LORAFLOW_ENGINE_JAR} (the launcher sets it), else
   * {@code worker-gpu/target/loraflow-engine.jar} in the checkout.
   */
  static Path engineJar(Map<String, String> env, Path home) {
    String set = env.get("LORAFLOW_ENGINE_JAR");
    Path jar =
        set != null && !set.isBlank()
            ? Path.of(set)
            : home.resolve("worker-gpu/target/loraflow-engine.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "the engine jar "
              + jar
              + " (workers, training) is missing; run ./loraflow demo from the checkout"
              + " (it builds it), or build it with mvn -DskipTests package");
    }
    return jar;
  }

  private void startWorker(Path engine, String kind, Path state, Path logs) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path log = logs.resolve("demo-worker-" + kind + ".log");
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    String opts = System.getenv("LORAFLOW_WORKER_JAVA_OPTS");
    if (opts != null && !opts.isBlank()) {
      cmd.addAll(List.of(opts.trim().split("\\s+")));
    }
    cmd.addAll(List.of("-jar", engine.toString(), "worker", kind));
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
  static Path repoRoot(Map<String, String> env) {
    String home = env.get("LORAFLOW_HOME");
    return Path.of(home != null && !home.isBlank() ? home : ".").toAbsolutePath().normalize();
  }
}
