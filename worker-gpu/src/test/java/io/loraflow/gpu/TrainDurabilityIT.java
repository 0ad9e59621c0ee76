package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.infra.StackSettings;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.ActivityPolicies;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.BaseModelRequest;
import io.loraflow.workflows.EvalRequest;
import io.loraflow.workflows.EvalResult;
import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.GpuActivities;
import io.loraflow.workflows.PromptsRef;
import io.loraflow.workflows.StorageKeys;
import io.loraflow.workflows.TaskQueues;
import io.loraflow.workflows.TrainRequest;
import io.loraflow.workflows.TrainResult;
import io.loraflow.workflows.TrainingSpec;
import io.temporal.activity.Activity;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.WorkerOptions;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The train activity under the production retry policy ({@link ActivityPolicies#gpuLong()}, a
 * Temporal test server with real time), the real engine (tiny random Llama, CPU, fp32) and the real
 * MinIO/MLflow. Every attempt is counted: an injected hang fails its attempt within the stall
 * window and the retry resumes from the checkpoint; failures that cannot succeed end after one
 * attempt with a message that says what to change; an out-of-memory at micro-batch 4 falls back to
 * 2 x 2.
 */
class TrainDurabilityIT {
  static ObjectStore store;
  static Tracking tracking;
  static BaseModelRef model;
  @TempDir static Path work;

  TestWorkflowEnvironment env;

  /** One attempt as the server ran it. */
  record Attempt(int number, long startNanos, long endNanos, Throwable failure) {}

  /** The real activities, each attempt recorded. */
  static final class Counting implements GpuActivities {
    final GpuActivitiesImpl real;
    final List<Attempt> attempts = new CopyOnWriteArrayList<>();

    Counting(GpuActivitiesImpl real) {
      this.real = real;
    }

    @Override
    public BaseModelRef prepareBaseModel(BaseModelRequest request) {
      return real.prepareBaseModel(request);
    }

    @Override
    public TrainResult train(TrainRequest request) {
      int n = Activity.getExecutionContext().getInfo().getAttempt();
      long t0 = System.nanoTime();
      try {
        TrainResult r = real.train(request);
        attempts.add(new Attempt(n, t0, System.nanoTime(), null));
        return r;
      } catch (RuntimeException e) {
        attempts.add(new Attempt(n, t0, System.nanoTime(), e));
        throw e;
      }
    }

    @Override
    public EvalResult evaluate(EvalRequest request) {
      return real.evaluate(request);
    }

    @Override
    public io.loraflow.workflows.TryResult generate(io.loraflow.workflows.TryRequest request) {
      return real.generate(request);
    }
  }

  @WorkflowInterface
  public interface TrainOnly {
    @WorkflowMethod
    TrainResult train(TrainRequest request);
  }

  /** Just the pipeline's train step, with the pipeline's GPU activity options. */
  public static class TrainOnlyImpl implements TrainOnly {
    @Override
    public TrainResult train(TrainRequest request) {
      return Workflow.newActivityStub(GpuActivities.class, ActivityPolicies.gpuLong())
          .train(request);
    }
  }

  @BeforeAll
  static void setUp() {
    StackSettings stack = StackSettings.load().requireReachable(Duration.ofSeconds(2));
    store = ObjectStore.connect(stack);
    tracking = Tracking.connect(stack, store);
    var prep = io.temporal.testing.TestActivityEnvironment.newInstance();
    prep.registerActivitiesImplementations(
        new GpuActivitiesImpl(settings(Map.of("LORAFLOW_GPU_WORK_DIR", "prep")), store, tracking));
    model =
        prep.newActivityStub(
                GpuActivities.class,
                io.temporal.activity.ActivityOptions.newBuilder()
                    .setStartToCloseTimeout(Duration.ofMinutes(5))
                    .build())
            .prepareBaseModel(new BaseModelRequest("tiny-llama-random", "tiny-llama-random"));
    prep.close();
  }

  static GpuSettings settings(Map<String, String> extra) {
    Map<String, String> env = new java.util.HashMap<>();
    env.put("LORAFLOW_DEVICE", "cpu");
    env.put("LORAFLOW_HEARTBEAT_SECONDS", "1");
    env.putAll(extra);
    env.put(
        "LORAFLOW_GPU_WORK_DIR",
        work.resolve(extra.getOrDefault("LORAFLOW_GPU_WORK_DIR", "w")).toString());
    return GpuSettings.load(env);
  }

  /** A Temporal test server (real time) with one GPU worker over the real activities. */
  Counting worker(Map<String, String> env) {
    this.env =
        TestWorkflowEnvironment.newInstance(
            TestEnvironmentOptions.newBuilder().setUseTimeskipping(false).build());
    Counting counting = new Counting(new GpuActivitiesImpl(settings(env), store, tracking));
    var w =
        this.env.newWorker(
            TaskQueues.GPU,
            WorkerOptions.newBuilder()
                .setMaxConcurrentActivityExecutionSize(1)
                .setMaxHeartbeatThrottleInterval(ActivityPolicies.GPU_HEARTBEAT_EVERY)
                .build());
    w.registerWorkflowImplementationTypes(TrainOnlyImpl.class);
    w.registerActivitiesImplementations(counting);
    this.env.start();
    return counting;
  }

  @AfterEach
  void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  TrainResult train(TrainRequest req) {
    WorkflowClient client = env.getWorkflowClient();
    return client
        .newWorkflowStub(
            TrainOnly.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.GPU)
                .setWorkflowId("train-" + req.runId())
                .setWorkflowExecutionTimeout(Duration.ofMinutes(8))
                .build())
        .train(req);
  }

  static TrainingSpec spec(int batch, int accum, int checkpointEvery) {
    return new TrainingSpec(
        1,
        1e-3,
        4,
        8,
        0.0,
        null,
        64,
        batch,
        accum,
        11L,
        "fp32",
        checkpointEvery,
        "adamw",
        "constant",
        0.0);
  }

  static String runId() {
    return "it-dur-" + UUID.randomUUID().toString().substring(0, 8);
  }

  static ApplicationFailure applicationFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ApplicationFailure a) {
        return a;
      }
    }
    throw new AssertionError("no ApplicationFailure in " + t, t);
  }

  /** The activity's own failure as the workflow saw it, after exactly one attempt. */
  ApplicationFailure failsOnce(Counting counting, TrainRequest req) {
    WorkflowFailedException e = assertThrows(WorkflowFailedException.class, () -> train(req));
    assertInstanceOf(ActivityFailure.class, e.getCause());
    assertEquals(1, counting.attempts.size(), "attempts: " + counting.attempts);
    ApplicationFailure f = applicationFailure(e.getCause());
    assertTrue(f.isNonRetryable() || FailureTypes.NON_RETRYABLE.contains(f.getType()), f.getType());
    return f;
  }

  @Test
  void aHangInsideTheLoopFailsTheAttemptWithinTheStallWindowAndTheRetryResumes() throws Exception {
    Counting counting =
        worker(
            Map.of(
                "LORAFLOW_STALL_FLOOR_SECONDS", "3",
                "LORAFLOW_STALL_FACTOR", "5",
                "LORAFLOW_STALL_FIRST_STEP_SECONDS", "60",
                "LORAFLOW_FAULT_HANG_AT_STEP", "5"));
    String id = runId();
    PromptsRef prompts = TinyRuns.prompts(store, model, work, id, 20);
    TrainResult result = train(new TrainRequest(id, model, prompts, spec(1, 1, 2), null));

    assertEquals(2, counting.attempts.size(), "attempts: " + counting.attempts);
    Attempt first = counting.attempts.get(0);
    ApplicationFailure stalled = applicationFailure(first.failure());
    assertEquals(FailureTypes.TRAINING_STALLED, stalled.getType());
    Matcher m =
        Pattern.compile("no optimizer step for (\\d+) s after step 4 \\(stall window (\\d+) s")
            .matcher(stalled.getOriginalMessage());
    assertTrue(m.find(), stalled.getOriginalMessage());
    long quiet = Long.parseLong(m.group(1));
    long window = Long.parseLong(m.group(2));
    assertEquals(3, window, "tiny steps: the floor decides");
    // noticed at the first heartbeat tick past the window (1 s ticks)
    assertTrue(quiet <= window + 2, "noticed after " + quiet + " s");
    assertTrue(stalled.getOriginalMessage().contains("step-4/"), stalled.getOriginalMessage());
    // the retry starts within the retry policy's first interval and resumes from step 4
    double gapSeconds = (counting.attempts.get(1).startNanos() - first.endNanos()) / 1e9;
    assertTrue(
        gapSeconds < ActivityPolicies.GPU_RETRY_MAX_INTERVAL.toSeconds(), "gap " + gapSeconds);
    assertEquals(1.0, result.metrics().get("resumes"));
    assertEquals(16, result.steps());
    System.out.printf(
        "[stall] training thread blocked at step 5: attempt failed after %d s without a step (window %d s), retry"
            + " %.1f s later resumed from step 4 and finished %d steps%n",
        quiet, window, gapSeconds, result.steps());
  }

  @Test
  void anUnreadableModelFailsOnceAndSaysWhatToUse() throws Exception {
    Counting counting = worker(Map.of());
    String name = "bad-" + UUID.randomUUID().toString().substring(0, 6);
    Path dir = Files.createDirectories(work.resolve(name));
    Files.write(dir.resolve("model.gguf"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    new PrefixPublisher(store).publish(dir, "models/" + name, Map.of());
    BaseModelRef bad =
        new BaseModelRef(
            "file:/models/" + name + ".gguf",
            name,
            StorageKeys.modelPrefix(name) + "model.gguf",
            model.tokenizerKey(),
            null,
            model.eosTokenIds(),
            "llama");
    String id = runId();
    PromptsRef prompts = TinyRuns.prompts(store, model, work, id, 10);
    ApplicationFailure f =
        failsOnce(counting, new TrainRequest(id, bad, prompts, spec(1, 1, 5), null));
    assertEquals(FailureTypes.INVALID_BASE_MODEL, f.getType());
    assertTrue(f.getOriginalMessage().contains("bad magic"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("GGUF"), f.getOriginalMessage());
  }

  @Test
  void aConfigThatDoesNotFitTheModelFailsOnce() throws Exception {
    Counting counting = worker(Map.of());
    String id = runId();
    PromptsRef prompts = TinyRuns.prompts(store, model, work, id, 10);
    TrainingSpec s = spec(1, 1, 5);
    TrainingSpec wrongTargets =
        new TrainingSpec(
            s.epochs(),
            s.learningRate(),
            s.loraR(),
            s.loraAlpha(),
            s.loraDropout(),
            List.of("query_key_value"),
            s.maxSeqLen(),
            s.batchSize(),
            s.gradAccum(),
            s.seed(),
            s.precision(),
            s.checkpointEverySteps(),
            s.optimizer(),
            s.schedule(),
            s.warmupRatio());
    ApplicationFailure f =
        failsOnce(counting, new TrainRequest(id, model, prompts, wrongTargets, null));
    assertEquals(FailureTypes.INVALID_TRAINING_CONFIG, f.getType());
    assertTrue(f.getOriginalMessage().contains("query_key_value"), f.getOriginalMessage());
  }

  @Test
  void aCheckpointOfOtherDataFailsOnceAndSaysHowToStartOver() throws Exception {
    Counting counting = worker(Map.of());
    String id = runId();
    PromptsRef prompts = TinyRuns.prompts(store, model, work, id, 20);
    train(new TrainRequest(id, model, prompts, spec(1, 1, 4), null)); // checkpoints of 16 steps
    assertEquals(1, counting.attempts.size());
    // the same run id with other data: the adapter is gone, the old checkpoints are not
    store.delete(StorageKeys.adapterPrefix(id) + StorageKeys.MANIFEST);
    TinyRuns.prompts(store, model, work, id, 10);
    env.close();
    counting = worker(Map.of());
    ApplicationFailure f =
        failsOnce(counting, new TrainRequest(id, model, prompts, spec(1, 1, 4), null));
    assertEquals(FailureTypes.CHECKPOINT_MISMATCH, f.getType());
    assertTrue(f.getOriginalMessage().contains("planned for 16 steps"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("Start a new run"), f.getOriginalMessage());
  }

  @Test
  void outOfMemoryAtMicroBatchOneFailsOnceAndSaysWhatToLower() throws Exception {
    Counting counting = worker(Map.of("LORAFLOW_FAULT_OOM_FROM_BATCH", "1"));
    String id = runId();
    PromptsRef prompts = TinyRuns.prompts(store, model, work, id, 10);
    ApplicationFailure f =
        failsOnce(counting, new TrainRequest(id, model, prompts, spec(1, 1, 5), null));
    assertEquals(FailureTypes.OUT_OF_MEMORY, f.getType());
    assertTrue(
        f.getOriginalMessage().contains("training.maxSeqLen (now 64)"), f.getOriginalMessage());
  }

  @Test
  void outOfMemoryFallsBackToHalfTheMicroBatchAndRecordsItInMlflow() throws Exception {
    Counting counting = worker(Map.of("LORAFLOW_FAULT_OOM_FROM_BATCH", "4"));
    String id = runId();
    PromptsRef prompts = TinyRuns.prompts(store, model, work, id, 20);
    var mlflowRun = tracking.createRun("loraflow-it-durability", id, Map.of());
    TrainResult r =
        train(new TrainRequest(id, model, prompts, spec(4, 1, 50), mlflowRun.mlflowRunId()));
    assertEquals(1, counting.attempts.size(), "attempts: " + counting.attempts);
    assertEquals(2.0, r.metrics().get("batch_size_used"));
    assertEquals(2.0, r.metrics().get("grad_accum_used"));
    assertEquals(1.0, r.metrics().get("oom_fallbacks"));
    assertEquals(4, r.steps(), "same effective batch, same number of optimizer steps");
    Map<String, String> tags = new java.util.HashMap<>();
    tracking
        .client()
        .getRun(mlflowRun.mlflowRunId())
        .getData()
        .getTagsList()
        .forEach(t -> tags.put(t.getKey(), t.getValue()));
    assertEquals("micro-batch 4 x accumulation 1 -> 2 x 2", tags.get("loraflow.oom_fallback"));
  }
}
