package io.loraflow.gpu;

import io.loraflow.infra.CpuWorker;
import io.loraflow.infra.ObjectInfo;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.infra.StackSettings;
import io.loraflow.infra.TemporalConnection;
import io.loraflow.infra.mlflow.ModelRegistry;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.RunProgress;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.StorageKeys;
import io.loraflow.workflows.TaskQueues;
import io.temporal.api.enums.v1.PendingActivityState;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The chaos soak of issue 9: the real pipeline (tiny random Llama, the builtin FAQ, CPU, fp32,
 * fixed seed) on the real stack, with the CPU worker and the GPU worker each in its own JVM, killed
 * with SIGKILL at seeded random moments inside a seeded random activity. One uninterrupted twin run
 * first; then every soak run must:
 *
 * <ul>
 *   <li>complete, with the twin's number of optimizer steps;
 *   <li>publish an adapter byte-identical to the twin's (a resumed run continues bit for bit);
 *   <li>have every step 1..N in MLflow's train/loss, a step logged again after a resume with the
 *       same value as before (no lost step, no step that differs when re-done);
 *   <li>register a model version;
 *   <li>leave exactly the twin's objects under {@code runs/<id>/} (no orphaned or half-written
 *       object, every checkpoint with a manifest complete) and nothing of it in the GPU worker's
 *       local scratch (which every restarted worker shares, as a restarted machine would).
 * </ul>
 *
 * <p>Kills: each run's targets are drawn from the pipeline's activities and put in pipeline order
 * ({@link #planKills}); for each, the soak waits until that activity runs (the server's
 * pending-activity view, not the workflow's query, which needs a live CPU worker), then a random
 * delay (up to 80% of the twin's training time for Train, up to 1.5 s otherwise), then SIGKILLs the
 * worker that serves it and starts a fresh one after 0-2 s. An activity the run has already passed
 * is replaced by whatever runs then. Time lost per kill = (run time - twin time) / kills of that
 * run.
 *
 * <p>Run it with {@code bench/chaos/soak.sh} (its main) or as {@link ChaosSoakIT} (a short
 * version).
 */
final class ChaosSoak {
  /** The activities a kill may target, with the worker that runs them. */
  static final Map<String, Boolean> ACTIVITY_ON_GPU =
      Map.of(
          "PrepareDataset", false,
          "OpenTrackingRun", false,
          "PrepareBaseModel", true,
          "FormatPrompts", false,
          "Train", true,
          "Evaluate", true,
          "RegisterAdapter", false);

  /**
   * What a kill may target: an activity (its own worker is killed) or {@code Train@cpu} (the CPU
   * worker, which runs the workflow, killed while the GPU trains). Train twice: it is most of a
   * run.
   */
  static final List<String> TARGETS =
      List.of(
          "PrepareDataset",
          "PrepareBaseModel",
          "FormatPrompts",
          "Train",
          "Train",
          "Train@cpu",
          "Evaluate",
          "RegisterAdapter");

  record Config(
      int runs,
      int kills,
      long seed,
      Path dir,
      Duration runTimeout,
      boolean restarts,
      boolean allInOne) {
    static Config fromEnv(Path dir) {
      Map<String, String> env = System.getenv();
      long seed =
          env.containsKey("LORAFLOW_SOAK_SEED")
              ? Long.parseLong(env.get("LORAFLOW_SOAK_SEED"))
              : new Random().nextLong();
      return new Config(
          Integer.parseInt(env.getOrDefault("LORAFLOW_SOAK_RUNS", "2")),
          Integer.parseInt(env.getOrDefault("LORAFLOW_SOAK_KILLS", "3")),
          seed,
          dir,
          Duration.ofMinutes(Long.parseLong(env.getOrDefault("LORAFLOW_SOAK_RUN_MINUTES", "12"))),
          "1".equals(env.get("LORAFLOW_SOAK_RESTARTS")),
          "1".equals(env.get("LORAFLOW_SOAK_ALL_IN_ONE")));
    }
  }

  /** What one kill hit. */
  record Kill(int run, String victim, String target, String hit, String detail, double atSeconds) {}

  /** One soak run's result. */
  record RunReport(
      String workflowId,
      int kills,
      double seconds,
      long steps,
      int reloggedSteps,
      long scratchKb) {}

  private final Config config;
  private final Random rng;
  private final StackSettings stack;
  private final TemporalConnection temporal;
  private final ObjectStore store;
  private final Tracking tracking;
  private final ModelRegistry registry;
  private final Path gpuWork;
  private final List<Kill> kills = new ArrayList<>();
  private final List<RunReport> reports = new ArrayList<>();
  private volatile GpuWorkerProcess cpu;
  private volatile GpuWorkerProcess gpu;
  private int cpuStarts;
  private int gpuStarts;

  ChaosSoak(Config config) {
    this.config = config;
    this.rng = new Random(config.seed());
    this.stack = StackSettings.load().requireReachable(Duration.ofSeconds(2));
    this.temporal = TemporalConnection.open(stack, Duration.ofSeconds(10));
    this.store = ObjectStore.connect(stack);
    this.tracking = Tracking.connect(stack, store);
    this.registry = new ModelRegistry(tracking.rest());
    this.gpuWork = config.dir().resolve("gpu-work");
  }

  static void log(String format, Object... args) {
    System.out.printf("[soak] " + format + "%n", args);
    System.out.flush();
  }

  private void startCpu() {
    cpu =
        GpuWorkerProcess.start(
            config.dir().resolve("cpu-work"),
            config.dir().resolve("cpu-" + (++cpuStarts) + ".log"),
            Map.of(),
            CpuWorker.class);
  }

  private void startGpu() {
    gpu =
        GpuWorkerProcess.start(
            gpuWork, config.dir().resolve("gpu-" + (++gpuStarts) + ".log"), Map.of());
  }

  /** Runs the soak; throws AssertionError (with the seed) on the first broken promise. */
  void run() throws Exception {
    log(
        "seed %d: %d runs, %d kills; rerun with LORAFLOW_SOAK_SEED=%d",
        config.seed(), config.runs(), config.kills(), config.seed());
    Files.createDirectories(config.dir());
    if (config.allInOne()) {
      require(config.kills() == 0, "LORAFLOW_SOAK_ALL_IN_ONE runs without kills");
      // one JVM with the CPU and the GPU worker, as `loraflow worker all`
      gpu =
          GpuWorkerProcess.start(
              gpuWork,
              config.dir().resolve("all-1.log"),
              Map.of(),
              AllWorkersMain.class,
              // the JVM's own native memory by category, to tell its growth from libtorch's
              List.of("-XX:NativeMemoryTracking=summary"));
      cpu = gpu;
    } else {
      startCpu();
      startGpu();
    }
    Thread supervisor = supervise();
    try {
      String batch = UUID.randomUUID().toString().substring(0, 6);
      String model = "soak-" + batch;
      // the twin: uninterrupted
      String twinId = "finetune-soak-" + batch + "-twin";
      long t0 = System.nanoTime();
      FineTuneResult twin = await(start(twinId, model), twinId);
      double twinSeconds = (System.nanoTime() - t0) / 1e9; // replaced by the baseline's below
      byte[] twinAdapter = store.getBytes(StorageKeys.adapterWeights(twinId));
      Set<String> twinObjects = objectsOf(twinId);
      long twinSteps = twin.train().steps();
      double trainSeconds = trainSecondsOf(twin, twinSeconds);
      activitySeconds = activitySeconds(temporal.client().fetchHistory(twinId).getEvents());
      log(
          "twin %s: %d steps, %.1f s (training ~%.1f s), %d objects; activity seconds %s",
          twinId, twinSteps, twinSeconds, trainSeconds, twinObjects.size(), activitySeconds);
      // a second uninterrupted run: the time reference (the twin paid the cold caches) and a
      // check that the twin itself is reproducible
      String baseId = "finetune-soak-" + batch + "-baseline";
      long b0 = System.nanoTime();
      FineTuneResult base = await(start(baseId, model), baseId);
      twinSeconds = (System.nanoTime() - b0) / 1e9;
      RunReport baseReport =
          check(baseId, base, 0, twinSeconds, twinSteps, twinAdapter, twinObjects, twinId);
      log(
          "baseline %s: %.1f s uninterrupted (the time reference), adapter = twin's, %d steps",
          baseId, twinSeconds, baseReport.steps());
      if (config.allInOne()) {
        memory(0); // the start: libtorch loaded, the model cached, the code warm
      }

      int left = config.kills();
      // kills that found their run already finished move on; up to 3 extra runs take the rest
      for (int i = 1; i <= config.runs() || (left > 0 && i <= config.runs() + 3); i++) {
        int planned = i <= config.runs() ? left / (config.runs() - i + 1) : left;
        left -= planned;
        String id = "finetune-soak-" + batch + "-" + i;
        long start = System.nanoTime();
        WorkflowStub stub = start(id, model);
        CompletableFuture<FineTuneResult> result =
            CompletableFuture.supplyAsync(() -> await(stub, id));
        String server = serverToRestart(i);
        if (server != null) {
          restartDuringTraining(server, id, trainSeconds, start, result);
        }
        int done = 0;
        List<String> plan = planKills(rng, planned);
        while (done < planned && !result.isDone()) {
          if (killOnce(i, id, plan.get(done), trainSeconds, start, result)) {
            done++;
          }
        }
        left += planned - done; // the run finished first: the next run takes these kills
        FineTuneResult r = result.get(config.runTimeout().toSeconds(), TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - start) / 1e9;
        RunReport report = check(id, r, done, seconds, twinSteps, twinAdapter, twinObjects, twinId);
        reports.add(report);
        if (config.allInOne()) {
          memory(i);
        }
        log(
            "run %d (of %d) %s: %d kills, %.1f s (%.1f s lost per kill), %d steps, %d steps re-logged"
                + " after resumes, adapter = twin's, GPU scratch %d KB",
            i,
            config.runs(),
            id,
            done,
            seconds,
            done == 0 ? 0.0 : (seconds - twinSeconds) / done,
            report.steps(),
            report.reloggedSteps(),
            report.scratchKb());
      }
      summary(twinSeconds);
    } finally {
      stopping = true;
      supervisor.interrupt();
      synchronized (workers) {
        cpu.close();
        gpu.close();
      }
      tracking.close();
      store.close();
      temporal.close();
    }
  }

  /**
   * One kill in run {@code i} at target {@code drawn} (see {@link #planKills}): draws the delay,
   * waits for it, kills its worker and starts a fresh one. False when the run ended before the kill
   * could land.
   */
  private boolean killOnce(
      int run,
      String workflowId,
      String drawn,
      double trainSeconds,
      long runStart,
      CompletableFuture<?> result)
      throws Exception {
    boolean cpuDuringTrain = drawn.endsWith("@cpu");
    String target = cpuDuringTrain ? "Train" : drawn;
    double maxDelay = killWindowSeconds(target, trainSeconds, activitySeconds);
    long delayMs = (long) (rng.nextDouble() * maxDelay * 1000);
    long restartMs = rng.nextInt(2000);
    // a sub-second target (PrepareDataset, FormatPrompts) is over before a 50 ms poll sees it
    long pollMs = maxDelay < 1.0 ? 5 : 50;
    // wait until the target (or, once past it, anything) runs
    long deadline = System.nanoTime() + config.runTimeout().toNanos();
    boolean sawTarget = false;
    while (!result.isDone() && System.nanoTime() < deadline) {
      PendingActivityInfo running = runningNow(workflowId);
      if (running != null && running.getActivityType().getName().equals(target)) {
        sawTarget = true;
        break;
      }
      if (running != null && passed(target, running.getActivityType().getName())) {
        delayMs = Math.min(delayMs, 1500);
        break;
      }
      Thread.sleep(pollMs);
    }
    if (result.isDone()) {
      return false;
    }
    Thread.sleep(delayMs);
    if (result.isDone()) {
      return false;
    }
    // a sub-second target has less time left than a describe call takes: its own worker is
    // killed first and the hit read after (a killed activity stays STARTED until its heartbeat or
    // start-to-close timeout); otherwise what runs now decides the victim
    boolean killFirst = sawTarget && !cpuDuringTrain && maxDelay < 1.0;
    PendingActivityInfo now = killFirst ? null : runningNow(workflowId);
    boolean onGpu =
        cpuDuringTrain
            ? false
            : killFirst
                ? ACTIVITY_ON_GPU.getOrDefault(target, false)
                : now != null
                    ? ACTIVITY_ON_GPU.getOrDefault(now.getActivityType().getName(), false)
                    : rng.nextBoolean();
    double at = (System.nanoTime() - runStart) / 1e9;
    GpuWorkerProcess fresh;
    synchronized (workers) { // the supervisor must not count our kill as a crash
      if (onGpu) {
        gpu.kill9();
      } else {
        cpu.kill9();
      }
      if (killFirst) {
        now = runningNow(workflowId);
      }
      Thread.sleep(restartMs);
      if (onGpu) {
        startGpu();
      } else {
        startCpu();
      }
      fresh = onGpu ? gpu : cpu;
    }
    String hit = now == null ? "(between activities)" : now.getActivityType().getName();
    String detail = now == null ? "" : "attempt " + now.getAttempt();
    if (now != null && hit.equals("Train")) {
      var p = RunProgress.heartbeatProgress(now, temporal.client().getOptions().getDataConverter());
      if (p.isPresent()) {
        detail += ", step " + p.get().step() + "/" + p.get().totalSteps();
      }
    }
    Kill k = new Kill(run, onGpu ? "gpu" : "cpu", drawn, hit, detail, at);
    kills.add(k);
    log(
        "kill %d: run %d at %.1f s, target %s, hit %s (%s): kill -9 the %s worker, fresh one in %d"
            + " ms",
        kills.size(), run, at, target, hit, detail, k.victim(), restartMs);
    awaitPolling(fresh);
    return true;
  }

  /** The run's activity in state STARTED, or null between activities. */
  private PendingActivityInfo runningNow(String workflowId) {
    return pending(workflowId).stream()
        .filter(a -> a.getState() == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)
        .findFirst()
        .orElse(null);
  }

  /**
   * Waits until a fresh worker polls, so that the next kill hits a working worker, not one still
   * starting (a crash on the way is the supervisor's to handle).
   */
  private static void awaitPolling(GpuWorkerProcess w) throws InterruptedException {
    try {
      w.awaitLog(l -> l.contains("worker: polling"), Duration.ofMinutes(3));
    } catch (IllegalStateException e) {
      log("fresh worker not polling: %s", e.getMessage().lines().findFirst().orElse(""));
    }
  }

  private final Object workers = new Object();
  private volatile boolean stopping;
  private int crashes;

  /**
   * A supervisor, as systemd or Kubernetes would be: a worker that exits on its own (e.g. Temporal
   * did not answer its first call within 30 s on a loaded machine) is started again. Counted and
   * reported; a crash is not a kill.
   */
  private Thread supervise() {
    Thread t =
        new Thread(
            () -> {
              while (!stopping) {
                synchronized (workers) {
                  if (!stopping && !cpu.isAlive()) {
                    crashes++;
                    log("the CPU worker exited on its own (crash %d): starting another", crashes);
                    if (config.allInOne()) {
                      stopping = true; // the memory run is void: report, do not hide it
                    } else {
                      startCpu();
                    }
                  }
                  if (!stopping && !gpu.isAlive()) {
                    crashes++;
                    log("the GPU worker exited on its own (crash %d): starting another", crashes);
                    startGpu();
                  }
                }
                try {
                  Thread.sleep(1000);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "soak-supervisor");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /**
   * With {@code LORAFLOW_SOAK_RESTARTS=1}: Temporal, MinIO and MLflow are restarted once each, in
   * runs at 1/4, 2/4 and 3/4 of the soak.
   */
  private String serverToRestart(int run) {
    if (!config.restarts()) {
      return null;
    }
    List<String> servers = List.of("temporal", "minio", "mlflow");
    for (int q = 1; q <= 3; q++) {
      if (run == Math.max(1, (int) Math.ceil(config.runs() * q / 4.0))) {
        if (restarted.add(servers.get(q - 1))) {
          return servers.get(q - 1);
        }
      }
    }
    return null;
  }

  private final Set<String> restarted = new TreeSet<>();

  /** Waits for Train, a seeded delay, then {@code deploy/local/stack.sh restart server}. */
  private void restartDuringTraining(
      String server, String workflowId, double trainSeconds, long runStart, CompletableFuture<?> r)
      throws Exception {
    long deadline = System.nanoTime() + config.runTimeout().toNanos();
    while (!r.isDone() && System.nanoTime() < deadline) {
      if (pending(workflowId).stream()
          .anyMatch(
              a ->
                  a.getActivityType().getName().equals("Train")
                      && a.getState() == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)) {
        break;
      }
      Thread.sleep(100);
    }
    Thread.sleep((long) (rng.nextDouble() * 0.5 * trainSeconds * 1000));
    Path script = Path.of(System.getenv("LORAFLOW_HOME"), "deploy", "local", "stack.sh");
    long t = System.nanoTime();
    Process p =
        new ProcessBuilder(script.toString(), "restart", server)
            .redirectErrorStream(true)
            .redirectOutput(config.dir().resolve("restart-" + server + ".log").toFile())
            .start();
    int exit = p.waitFor();
    log(
        "restart %s at %.1f s of the run: exit %d after %.1f s",
        server, (t - runStart) / 1e9, exit, (System.nanoTime() - t) / 1e9);
    require(exit == 0, "stack.sh restart " + server + " failed; see " + config.dir());
  }

  /** The activities of one run, in the order the workflow calls them. */
  static final List<String> PIPELINE_ORDER =
      List.of(
          "PrepareDataset",
          "OpenTrackingRun",
          "PrepareBaseModel",
          "FormatPrompts",
          "Train",
          "Evaluate",
          "RegisterAdapter",
          "RunLinks",
          "CloseTrackingRun");

  /** Seconds each activity type took in the twin (see {@link #activitySeconds(List)}). */
  private Map<String, Double> activitySeconds = Map.of();

  /**
   * Each activity type's seconds in an uninterrupted run, from its scheduling to its completion
   * (the longest, if it ran more than once), read from the run's history: how long a kill aimed at
   * it has to land.
   */
  static Map<String, Double> activitySeconds(List<HistoryEvent> events) {
    Map<Long, HistoryEvent> scheduled = new HashMap<>();
    Map<String, Double> seconds = new java.util.TreeMap<>();
    for (HistoryEvent e : events) {
      if (e.hasActivityTaskScheduledEventAttributes()) {
        scheduled.put(e.getEventId(), e);
      } else if (e.hasActivityTaskCompletedEventAttributes()) {
        HistoryEvent s =
            scheduled.get(e.getActivityTaskCompletedEventAttributes().getScheduledEventId());
        if (s != null) {
          String type = s.getActivityTaskScheduledEventAttributes().getActivityType().getName();
          seconds.merge(type, secondsBetween(s, e), Math::max);
        }
      }
    }
    return seconds;
  }

  private static double secondsBetween(HistoryEvent from, HistoryEvent to) {
    var a = from.getEventTime();
    var b = to.getEventTime();
    return (b.getSeconds() - a.getSeconds()) + (b.getNanos() - a.getNanos()) / 1e9;
  }

  /**
   * The longest delay after a kill's target is seen running: 80% of Train's time; 80% of a shorter
   * activity's time in the twin (at most 1.5 s), a quarter of it for a sub-second one, whose time
   * from scheduling to completion is mostly dispatch and whose work is over soon after it is seen
   * running (session 19: delays of up to 80% of PrepareDataset's 0.12 s landed after it); 1.5 s for
   * a target the twin did not time.
   */
  static double killWindowSeconds(
      String target, double trainSeconds, Map<String, Double> activitySeconds) {
    if (target.equals("Train")) {
      return 0.8 * trainSeconds;
    }
    Double took = activitySeconds.get(target);
    if (took == null) {
      return 1.5;
    }
    return took < 1.0 ? 0.25 * took : Math.min(1.5, 0.8 * took);
  }

  /** True when the run's pipeline order puts {@code current} after {@code target}. */
  static boolean passed(String target, String current) {
    int t = PIPELINE_ORDER.indexOf(target);
    int c = PIPELINE_ORDER.indexOf(current);
    return t >= 0 && c > t;
  }

  /**
   * The targets of one run's {@code kills}: drawn from {@link #TARGETS}, then put in pipeline order
   * ({@code Train@cpu} as Train). Drawn one by one in draw order, a kill after a fresh worker's
   * start (10-40 s under load) mostly found its run past its target and took whatever ran, so the
   * 52-kill soak hit RegisterAdapter 17 times and PrepareDataset never (chaos-soak.md).
   */
  static List<String> planKills(Random rng, int kills) {
    List<String> plan = new ArrayList<>(kills);
    for (int k = 0; k < kills; k++) {
      plan.add(TARGETS.get(rng.nextInt(TARGETS.size())));
    }
    plan.sort(Comparator.comparingInt(t -> PIPELINE_ORDER.indexOf(t.replace("@cpu", ""))));
    return plan;
  }

  private List<PendingActivityInfo> pending(String workflowId) {
    try {
      return RunProgress.pendingActivities(temporal.client(), workflowId, Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      return List.of(); // a slow server answer: look again
    }
  }

  private WorkflowStub start(String workflowId, String model) {
    RunSpec spec = FineTunePipelineIT.spec(workflowId.substring("finetune-".length()), model);
    WorkflowClient client = temporal.client();
    FineTuneWorkflow wf =
        client.newWorkflowStub(
            FineTuneWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.CPU)
                .setWorkflowId(workflowId)
                .build());
    WorkflowClient.start(wf::run, spec);
    return WorkflowStub.fromTyped(wf);
  }

  private FineTuneResult await(WorkflowStub stub, String workflowId) {
    try {
      return stub.getResult(
          config.runTimeout().toSeconds(), TimeUnit.SECONDS, FineTuneResult.class);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(
          workflowId + " did not finish within " + config.runTimeout() + seed(), e);
    }
  }

  /** Train's own time, from the twin's MLflow metric "train_seconds_last_attempt" if logged. */
  private double trainSecondsOf(FineTuneResult twin, double wholeRun) {
    try {
      var m = tracking.client().getRun(twin.train().mlflowRunId()).getData().getMetricsList();
      for (var metric : m) {
        if (metric.getKey().equals("train_seconds_last_attempt")) {
          return metric.getValue();
        }
      }
    } catch (RuntimeException e) {
      // fall back
    }
    return wholeRun / 2;
  }

  private Set<String> objectsOf(String runId) {
    String prefix = "runs/" + runId + "/";
    return store.list(prefix).stream()
        .map(ObjectInfo::key)
        .map(k -> k.substring(prefix.length()))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private String seed() {
    return " (LORAFLOW_SOAK_SEED=" + config.seed() + ")";
  }

  private void require(boolean ok, String what) {
    if (!ok) {
      throw new AssertionError(what + seed());
    }
  }

  private RunReport check(
      String id,
      FineTuneResult r,
      int killCount,
      double seconds,
      long twinSteps,
      byte[] twinAdapter,
      Set<String> twinObjects,
      String twinId)
      throws IOException {
    require(id.equals(r.runId()), id + ": result for " + r.runId());
    require(
        r.train().steps() == twinSteps,
        id + ": " + r.train().steps() + " steps, the twin " + twinSteps);
    byte[] adapter = store.getBytes(StorageKeys.adapterWeights(id));
    require(
        Arrays.equals(twinAdapter, adapter),
        id + ": adapter differs from the uninterrupted twin's after " + killCount + " kills");
    // MLflow: every step once or more, a re-logged step with the value it had
    var history = tracking.client().getMetricHistory(r.train().mlflowRunId(), "train/loss");
    Map<Long, Double> byStep = new HashMap<>();
    int relogged = 0;
    for (var m : history) {
      Double before = byStep.putIfAbsent(m.getStep(), m.getValue());
      if (before != null) {
        relogged++;
        require(
            Double.compare(before, m.getValue()) == 0,
            id + ": step " + m.getStep() + " logged as " + before + " and " + m.getValue());
      }
    }
    Set<Long> expected = new TreeSet<>();
    for (long s = 1; s <= twinSteps; s++) {
      expected.add(s);
    }
    require(
        byStep.keySet().equals(expected),
        id
            + ": MLflow train/loss steps "
            + new TreeSet<>(byStep.keySet())
            + ", want 1.."
            + twinSteps);
    // registry
    require(r.registration() != null && r.registration().modelName() != null, id + ": registered");
    require(
        registry.versions(r.registration().modelName(), 100).stream()
            .anyMatch(v -> r.train().mlflowRunId().equals(v.runId())),
        id + ": no registered version points at its MLflow run");
    // objects: exactly the twin's, checkpoints complete
    Set<String> objects = objectsOf(id);
    require(
        objects.equals(twinObjects),
        id
            + ": objects differ from the twin's: extra "
            + minus(objects, twinObjects)
            + ", missing "
            + minus(twinObjects, objects));
    for (String prefix : store.listChildPrefixes(StorageKeys.checkpointsPrefix(id))) {
      boolean hasManifest = store.exists(prefix + StorageKeys.MANIFEST);
      boolean complete =
          new PrefixPublisher(store)
              .readComplete(prefix.substring(0, prefix.length() - 1))
              .isPresent();
      require(hasManifest == complete, id + ": " + prefix + " manifest but incomplete");
    }
    // local scratch of the GPU workers: nothing left of this run
    Path scratch = gpuWork.resolve("runs").resolve(id);
    long scratchKb = sizeKb(gpuWork.resolve("runs"));
    require(
        !Files.exists(scratch) || sizeKb(scratch) == 0,
        id + ": GPU scratch left behind: " + listing(scratch));
    return new RunReport(id, killCount, seconds, r.train().steps(), relogged, scratchKb);
  }

  static Set<String> minus(Set<String> a, Set<String> b) {
    Set<String> out = new TreeSet<>(a);
    out.removeAll(b);
    return out;
  }

  static long sizeKb(Path p) {
    if (!Files.exists(p)) {
      return 0;
    }
    try (Stream<Path> walk = Files.walk(p)) {
      return walk.filter(Files::isRegularFile)
              .mapToLong(
                  f -> {
                    try {
                      return Files.size(f);
                    } catch (IOException e) {
                      return 0;
                    }
                  })
              .sum()
          / 1024;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String listing(Path p) {
    try (Stream<Path> walk = Files.walk(p)) {
      return walk.map(Path::toString).collect(Collectors.joining(", "));
    } catch (IOException e) {
      return p + ": " + e;
    }
  }

  private void summary(double twinSeconds) {
    Map<String, Integer> byHit = new java.util.TreeMap<>();
    Map<String, Integer> byVictim = new java.util.TreeMap<>();
    for (Kill k : kills) {
      byHit.merge(k.hit(), 1, Integer::sum);
      byVictim.merge(k.victim(), 1, Integer::sum);
    }
    double lost = 0;
    int killed = 0;
    for (RunReport r : reports) {
      if (r.kills() > 0) {
        lost += r.seconds() - twinSeconds;
        killed += r.kills();
      }
    }
    log(
        "SUMMARY seed %d: %d runs completed, %d kills survived (%s; activity hit %s), every"
            + " adapter = the twin's, every step 1..N in MLflow, objects = the twin's; time lost"
            + " %.1f s per kill (baseline %.1f s); %d worker crashes restarted by the supervisor",
        config.seed(),
        reports.size(),
        kills.size(),
        byVictim,
        byHit,
        killed == 0 ? 0.0 : lost / killed,
        twinSeconds,
        crashes);
  }

  /**
   * The all-in-one worker's memory after run {@code i}: JVM heap in use right after a full GC
   * ({@code jcmd GC.run}, then {@code GC.heap_info}), resident set size (heap + native: libtorch,
   * tokenizers, thread stacks) from /proc, and the JVM's thread count.
   */
  private void memory(int i) throws Exception {
    long pid = gpu.pid();
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    exec(jcmd, Long.toString(pid), "GC.run");
    Thread.sleep(1000);
    String heap = exec(jcmd, Long.toString(pid), "GC.heap_info");
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(heap);
    boolean found = m.find();
    long committedKb = found ? Long.parseLong(m.group(1)) : -1;
    long usedKb = found ? Long.parseLong(m.group(2)) : -1;
    long rssKb = procField(pid, "status", "VmRSS:");
    long threads = procField(pid, "status", "Threads:");
    long anonKb = procField(pid, "smaps_rollup", "Anonymous:");
    // glibc keeps freed native memory in its arenas; returning it to the OS (malloc_trim, JDK
    // 17.0.9+) tells memory that is free but retained from memory still in use (a leak)
    exec(jcmd, Long.toString(pid), "System.trim_native_heap");
    long trimmedKb = procField(pid, "status", "VmRSS:");
    long trimmedAnonKb = procField(pid, "smaps_rollup", "Anonymous:");
    log(
        "memory after run %d: heap after GC %d MB (committed %d MB), RSS %d MB (anonymous %d MB),"
            + " after malloc_trim RSS %d MB (anonymous %d MB), %d threads (worker pid %d)",
        i,
        usedKb / 1024,
        committedKb / 1024,
        rssKb / 1024,
        anonKb / 1024,
        trimmedKb / 1024,
        trimmedAnonKb / 1024,
        threads,
        pid);
    // what the JVM itself holds (NMT: heap, metaspace, code cache, threads, GC, its mallocs), as a
    // change since the start; anonymous memory that grows outside it is the native libraries'
    if (i == 0) {
      exec(jcmd, Long.toString(pid), "VM.native_memory", "baseline");
      anonAtStartKb = trimmedAnonKb;
    } else {
      NmtDiff d = NmtDiff.parse(exec(jcmd, Long.toString(pid), "VM.native_memory", "summary.diff"));
      log(
          "JVM native memory after run %d: committed %d MB (%+d MB since run 0; largest changes %s);"
              + " anonymous memory outside it %+d MB since run 0",
          i,
          d.committedKb() / 1024,
          d.committedDeltaKb() / 1024,
          d.largestChanges(3),
          (trimmedAnonKb - anonAtStartKb - d.committedDeltaKb()) / 1024);
    }
  }

  private long anonAtStartKb;

  /** A kB (or count) field of /proc/PID/FILE, -1 when absent. */
  private static long procField(long pid, String file, String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/" + file))) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  static String exec(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }

  int killsDone() {
    return kills.size();
  }

  int runsDone() {
    return reports.size();
  }

  public static void main(String[] args) throws Exception {
    Path dir =
        Path.of(args.length > 0 ? args[0] : System.getProperty("java.io.tmpdir"))
            .resolve("soak-" + System.currentTimeMillis());
    new ChaosSoak(Config.fromEnv(dir)).run();
  }
}
