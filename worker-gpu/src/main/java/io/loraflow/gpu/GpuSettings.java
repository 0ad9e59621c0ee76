package io.loraflow.gpu;

import io.loraflow.infra.EnvInts;
import io.loraflow.workflows.ActivityPolicies;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * How this GPU worker runs.
 *
 * @param workDir local scratch: downloaded models, prompts, checkpoints of running activities
 *     ({@code LORAFLOW_GPU_WORK_DIR}, default {@code ~/.cache/loraflow/gpu-work})
 * @param modelsDir where known aliases find their local files ({@code LORAFLOW_MODELS_DIR}, default
 *     {@code ~/.cache/loraflow/models})
 * @param concurrency activities run at once ({@code LORAFLOW_GPU_CONCURRENCY}, default 1: one GPU,
 *     one job; whatever is queued waits on the server, not in this process)
 * @param metricsFlush how often step metrics go to MLflow in one batch ({@code
 *     LORAFLOW_METRICS_FLUSH_SECONDS}, default 15)
 * @param heartbeatEvery how often long activities heartbeat ({@code LORAFLOW_HEARTBEAT_SECONDS},
 *     default {@link ActivityPolicies#GPU_HEARTBEAT_EVERY}; must stay well under the workflow's
 *     heartbeat timeout {@link ActivityPolicies#GPU_HEARTBEAT_TIMEOUT})
 * @param device "cpu", "gpu" or "auto" ({@code LORAFLOW_DEVICE}, default auto: gpu when present)
 * @param stall the liveness watchdog's window (see {@link StallWatchdog})
 * @param oomFallback on out-of-memory, halve the micro-batch and double gradient accumulation (same
 *     effective batch) and go on ({@code LORAFLOW_OOM_FALLBACK}, default true)
 * @param faults fault injection for durability tests; all off in production
 */
public record GpuSettings(
    Path workDir,
    Path modelsDir,
    int concurrency,
    Duration metricsFlush,
    Duration heartbeatEvery,
    String device,
    Stall stall,
    boolean oomFallback,
    Faults faults) {

  /**
   * The stall window: {@code max(floor, factor x slowest recent step)}, {@code firstStep} before
   * the first step of an attempt.
   *
   * @param floor {@code LORAFLOW_STALL_FLOOR_SECONDS}, default 120
   * @param factor {@code LORAFLOW_STALL_FACTOR}, default 10
   * @param firstStep {@code LORAFLOW_STALL_FIRST_STEP_SECONDS}, default 900 (first CUDA kernels,
   *     allocator warm-up)
   */
  public record Stall(Duration floor, double factor, Duration firstStep) {
    public Stall {
      if (floor.isNegative() || floor.isZero()) {
        throw new IllegalArgumentException(
            "LORAFLOW_STALL_FLOOR_SECONDS must be > 0, got " + floor.toSeconds());
      }
      if (!(factor >= 1)) {
        throw new IllegalArgumentException("LORAFLOW_STALL_FACTOR must be >= 1, got " + factor);
      }
      if (firstStep.compareTo(floor) < 0) {
        throw new IllegalArgumentException(
            "LORAFLOW_STALL_FIRST_STEP_SECONDS ("
                + firstStep.toSeconds()
                + ") must be >= LORAFLOW_STALL_FLOOR_SECONDS ("
                + floor.toSeconds()
                + ")");
      }
    }
  }

  /**
   * Fault injection, for the durability tests only (0 = off).
   *
   * @param checkpointPauseMillis pause between a checkpoint's files and its manifest ({@code
   *     LORAFLOW_FAULT_CHECKPOINT_PAUSE_MS})
   * @param hangAtStep the training thread blocks (interruptibly, like a stuck device call that a
   *     cancel can still reach) after this optimizer step, in the first attempt only ({@code
   *     LORAFLOW_FAULT_HANG_AT_STEP})
   * @param oomFromBatch the first step of a session throws the engine's out-of-memory error while
   *     the micro-batch is at least this ({@code LORAFLOW_FAULT_OOM_FROM_BATCH})
   */
  public record Faults(long checkpointPauseMillis, long hangAtStep, int oomFromBatch) {
    static final Faults NONE = new Faults(0, 0, 0);
  }

  public GpuSettings {
    if (concurrency < 1 || concurrency > 64) {
      throw new IllegalArgumentException(
          "LORAFLOW_GPU_CONCURRENCY must be in [1, 64], got " + concurrency);
    }
    if (!device.equals("cpu") && !device.equals("gpu") && !device.equals("auto")) {
      throw new IllegalArgumentException(
          "LORAFLOW_DEVICE must be cpu, gpu or auto, got '" + device + "'");
    }
    if (heartbeatEvery.isZero()
        || heartbeatEvery.isNegative()
        || heartbeatEvery.multipliedBy(2).compareTo(ActivityPolicies.GPU_HEARTBEAT_TIMEOUT) > 0) {
      throw new IllegalArgumentException(
          "LORAFLOW_HEARTBEAT_SECONDS must be in [1, "
              + ActivityPolicies.GPU_HEARTBEAT_TIMEOUT.toSeconds() / 2
              + "] (half the heartbeat timeout), got "
              + heartbeatEvery.toSeconds());
    }
  }

  public static GpuSettings load(Map<String, String> env) {
    Path cache = Path.of(System.getProperty("user.home"), ".cache", "loraflow");
    return new GpuSettings(
        Path.of(env.getOrDefault("LORAFLOW_GPU_WORK_DIR", cache.resolve("gpu-work").toString())),
        Path.of(env.getOrDefault("LORAFLOW_MODELS_DIR", cache.resolve("models").toString())),
        EnvInts.intOf(env, "LORAFLOW_GPU_CONCURRENCY", 1),
        Duration.ofSeconds(EnvInts.intOf(env, "LORAFLOW_METRICS_FLUSH_SECONDS", 15)),
        Duration.ofSeconds(
            EnvInts.intOf(
                env,
                "LORAFLOW_HEARTBEAT_SECONDS",
                (int) ActivityPolicies.GPU_HEARTBEAT_EVERY.toSeconds())),
        env.getOrDefault("LORAFLOW_DEVICE", "auto"),
        new Stall(
            Duration.ofSeconds(EnvInts.intOf(env, "LORAFLOW_STALL_FLOOR_SECONDS", 120)),
            doubleOf(env, "LORAFLOW_STALL_FACTOR", 10),
            Duration.ofSeconds(EnvInts.intOf(env, "LORAFLOW_STALL_FIRST_STEP_SECONDS", 900))),
        !"false".equalsIgnoreCase(env.getOrDefault("LORAFLOW_OOM_FALLBACK", "true").strip()),
        new Faults(
            EnvInts.intOf(env, "LORAFLOW_FAULT_CHECKPOINT_PAUSE_MS", 0),
            EnvInts.intOf(env, "LORAFLOW_FAULT_HANG_AT_STEP", 0),
            EnvInts.intOf(env, "LORAFLOW_FAULT_OOM_FROM_BATCH", 0)));
  }

  private static double doubleOf(Map<String, String> env, String key, double fallback) {
    String v = env.get(key);
    if (v == null || v.isBlank()) {
      return fallback;
    }
    try {
      return Double.parseDouble(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + "='" + v + "' is not a number", e);
    }
  }
}
