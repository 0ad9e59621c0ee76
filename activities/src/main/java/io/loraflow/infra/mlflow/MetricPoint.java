package io.loraflow.infra.mlflow;

/**
 * One metric value.
 *
 * @param step training step (MLflow's x axis)
 * @param timestampMs wall-clock milliseconds since the epoch
 */
public record MetricPoint(String key, double value, long step, long timestampMs) {
  public MetricPoint {
    if (key == null || key.isBlank()) {
      throw new IllegalArgumentException("metric key is empty");
    }
  }

  public static MetricPoint now(String key, double value, long step) {
    return new MetricPoint(key, value, step, System.currentTimeMillis());
  }
}
