package io.loraflow.gpu;

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
 *     one job)
 * @param metricsFlush how often step metrics go to MLflow in one batch ({@code
 *     LORAFLOW_METRICS_FLUSH_SECONDS}, default 15)
 * @param heartbeatEvery how often long activities heartbeat (default 10 s; the workflow's heartbeat
 *     timeout is 60 s)
 * @param device "cpu", "gpu" or "auto" ({@code LORAFLOW_DEVICE}, default auto: gpu when present)
 * @param faultCheckpointPauseMillis fault injection for durability tests only: pause between a
 *     checkpoint's files and its manifest ({@code LORAFLOW_FAULT_CHECKPOINT_PAUSE_MS}, default 0)
 */
public record GpuSettings(
    Path workDir,
    Path modelsDir,
    int concurrency,
    Duration metricsFlush,
    Duration heartbeatEvery,
    String device,
    long faultCheckpointPauseMillis) {

  public GpuSettings {
    if (concurrency < 1 || concurrency > 64) {
      throw new IllegalArgumentException(
          "LORAFLOW_GPU_CONCURRENCY must be in [1, 64], got " + concurrency);
    }
    if (!device.equals("cpu") && !device.equals("gpu") && !device.equals("auto")) {
      throw new IllegalArgumentException(
          "LORAFLOW_DEVICE must be cpu, gpu or auto, got '" + device + "'");
    }
  }

  public static GpuSettings load(Map<String, String> env) {
    Path cache = Path.of(System.getProperty("user.home"), ".cache", "loraflow");
    return new GpuSettings(
        Path.of(env.getOrDefault("LORAFLOW_GPU_WORK_DIR", cache.resolve("gpu-work").toString())),
        Path.of(env.getOrDefault("LORAFLOW_MODELS_DIR", cache.resolve("models").toString())),
        intOf(env, "LORAFLOW_GPU_CONCURRENCY", 1),
        Duration.ofSeconds(intOf(env, "LORAFLOW_METRICS_FLUSH_SECONDS", 15)),
        Duration.ofSeconds(intOf(env, "LORAFLOW_HEARTBEAT_SECONDS", 10)),
        env.getOrDefault("LORAFLOW_DEVICE", "auto"),
        intOf(env, "LORAFLOW_FAULT_CHECKPOINT_PAUSE_MS", 0));
  }

  private static int intOf(Map<String, String> env, String key, int fallback) {
    String v = env.get(key);
    if (v == null || v.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + "='" + v + "' is not an integer", e);
    }
  }
}
