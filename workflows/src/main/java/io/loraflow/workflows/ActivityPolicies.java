package io.loraflow.workflows;

import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.Priority;
import io.temporal.common.RetryOptions;
import java.time.Duration;

/**
 * Timeouts and retries of the pipeline's activities, in one place.
 *
 * <ul>
 *   <li>CPU steps retry with backoff up to 30 s for at most 2 h (MinIO or MLflow restarting mid-run
 *       costs seconds, a real outage fails the run after 2 h). Their worker heartbeats them, so a
 *       killed CPU worker costs {@link #CPU_HEARTBEAT_TIMEOUT} plus a retry pause.
 *   <li>GPU steps retry without limit, but only failures that a retry can fix: bad models, configs
 *       that do not fit the model, checkpoints that do not match and out-of-memory at micro-batch 1
 *       are non-retryable ({@link FailureTypes#NON_RETRYABLE}). A killed or preempted GPU worker
 *       stops heartbeating; after {@link #GPU_HEARTBEAT_TIMEOUT} the server fails the attempt and
 *       the next one starts after at most {@link #GPU_RETRY_MAX_INTERVAL}: at most {@value
 *       #KILL_COST_BOUND_SECONDS} s lost per kill, then the next attempt (on any GPU worker)
 *       resumes from the last checkpoint. A worker whose training stops making progress (stall
 *       watchdog) stops heartbeating too. No schedule-to-start limit: runs queue while every GPU is
 *       busy.
 *   <li>Cleanup after a failure (closing the MLflow run) tries 3 times, then gives up quietly.
 * </ul>
 *
 * Failures whose type is in {@link FailureTypes#NON_RETRYABLE} are never retried.
 */
public final class ActivityPolicies {

  /**
   * Server-side: an attempt without a heartbeat for this long has failed. GPU workers heartbeat
   * every {@link #GPU_HEARTBEAT_EVERY} and flush to the server at least that often, so a live
   * worker has five chances per window.
   */
  public static final Duration GPU_HEARTBEAT_TIMEOUT = Duration.ofSeconds(15);

  /** How often GPU activities heartbeat (and the most the SDK may delay one). */
  public static final Duration GPU_HEARTBEAT_EVERY = Duration.ofSeconds(3);

  /** Longest pause between a failed GPU attempt and the next one. */
  public static final Duration GPU_RETRY_MAX_INTERVAL = Duration.ofSeconds(5);

  /**
   * Server-side heartbeat timeout of the CPU steps. The CPU worker heartbeats every running
   * activity every {@link #CPU_HEARTBEAT_EVERY} from a timer (its worker interceptor), so a killed
   * CPU worker costs this much, plus the retry pause, instead of the 15 min start-to-close.
   */
  public static final Duration CPU_HEARTBEAT_TIMEOUT = Duration.ofSeconds(15);

  /**
   * How often the CPU worker heartbeats its running activities (and the most the SDK may delay).
   */
  public static final Duration CPU_HEARTBEAT_EVERY = Duration.ofSeconds(3);

  /** Heartbeat timeout + the longest retry pause: the most a killed worker costs before a retry. */
  public static final long KILL_COST_BOUND_SECONDS = 20;

  /**
   * Task-queue priority keys (Temporal: 1 is dispatched first, 5 last, FIFO within a key). Later
   * pipeline stages go before earlier ones, so that a flood of queued runs drains one run at a
   * time, oldest first: a run that has trained is evaluated and registered before any other run
   * trains, and a run ready to train trains before another run's model or dataset is prepared.
   * Without them every queue is FIFO over all runs and runs advance breadth-first (400 queued runs
   * were all prepared before the first one trained). The idle CPU slots still prepare the next runs
   * while one trains, so the GPU never waits for a CPU step.
   */
  public static final int PRIORITY_FINISH = 1;

  /** Train (see {@link #PRIORITY_FINISH}). */
  public static final int PRIORITY_TRAIN = 2;

  /** formatPrompts and openTrackingRun, the CPU steps right before training. */
  public static final int PRIORITY_FORMAT = 3;

  /** prepareBaseModel (GPU queue). */
  public static final int PRIORITY_PREPARE_MODEL = 4;

  /** prepareDataset, the first step of a run. */
  public static final int PRIORITY_PREPARE_DATASET = 5;

  private ActivityPolicies() {}

  /** {@code options} dispatched at task-queue priority {@code key} (1 first ... 5 last). */
  public static ActivityOptions prioritized(ActivityOptions options, int key) {
    if (key < 1 || key > 5) {
      throw new IllegalArgumentException("priority key must be in [1, 5], got " + key);
    }
    return ActivityOptions.newBuilder(options)
        .setPriority(Priority.newBuilder().setPriorityKey(key).build())
        .build();
  }

  static RetryOptions.Builder retry(Duration max) {
    return RetryOptions.newBuilder()
        .setInitialInterval(Duration.ofSeconds(1))
        .setBackoffCoefficient(2.0)
        .setMaximumInterval(max)
        .setDoNotRetry(FailureTypes.NON_RETRYABLE.toArray(String[]::new));
  }

  /** Dataset, prompts, tracking, registry. */
  public static ActivityOptions cpu() {
    return ActivityOptions.newBuilder()
        .setTaskQueue(TaskQueues.CPU)
        .setStartToCloseTimeout(Duration.ofMinutes(15))
        .setHeartbeatTimeout(CPU_HEARTBEAT_TIMEOUT)
        .setScheduleToCloseTimeout(Duration.ofHours(2))
        .setRetryOptions(retry(Duration.ofSeconds(30)).build())
        .build();
  }

  /** Best-effort cleanup after a failure or cancel. */
  public static ActivityOptions cpuCleanup() {
    return ActivityOptions.newBuilder(cpu())
        .setScheduleToCloseTimeout(Duration.ofMinutes(5))
        .setRetryOptions(retry(Duration.ofSeconds(10)).setMaximumAttempts(3).build())
        .build();
  }

  /** prepareBaseModel: download/convert can take a while; heartbeats still required. */
  public static ActivityOptions gpuPrepare() {
    return gpu(Duration.ofHours(4));
  }

  /** train and evaluate. */
  public static ActivityOptions gpuLong() {
    return gpu(Duration.ofHours(72));
  }

  private static ActivityOptions gpu(Duration startToClose) {
    return ActivityOptions.newBuilder()
        .setTaskQueue(TaskQueues.GPU)
        .setStartToCloseTimeout(startToClose)
        .setHeartbeatTimeout(GPU_HEARTBEAT_TIMEOUT)
        .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
        .setRetryOptions(retry(GPU_RETRY_MAX_INTERVAL).setMaximumAttempts(0).build())
        .build();
  }
}
