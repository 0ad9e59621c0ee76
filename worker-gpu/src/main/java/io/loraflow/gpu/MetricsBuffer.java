package io.loraflow.gpu;

import io.loraflow.infra.mlflow.MetricPoint;
import io.loraflow.infra.mlflow.Tracking;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collects step metrics and sends them to the MLflow run in one batch every {@code every} (and on
 * {@link #flush()}), so a fast training loop does not make one HTTP call per step. A failed send
 * keeps the points for the next try (MLflow down for a minute costs no metrics, only latency).
 */
final class MetricsBuffer {
  private static final Logger log = LoggerFactory.getLogger(MetricsBuffer.class);
  private static final int MAX_BUFFERED = 100_000;

  private final Tracking tracking;
  private final String runId;
  private final long everyNanos;
  private final List<MetricPoint> pending = new ArrayList<>();
  private long lastFlush = System.nanoTime();

  MetricsBuffer(Tracking tracking, String runId, Duration every) {
    this.tracking = tracking;
    this.runId = runId;
    this.everyNanos = every.toNanos();
  }

  synchronized void add(MetricPoint p) {
    if (pending.size() < MAX_BUFFERED) {
      pending.add(p);
    }
    if (System.nanoTime() - lastFlush >= everyNanos) {
      flush();
    }
  }

  /**
   * Sends everything buffered; returns false (keeping the points) when MLflow did not take them.
   */
  synchronized boolean flush() {
    lastFlush = System.nanoTime();
    if (pending.isEmpty() || runId == null) {
      return true;
    }
    try {
      tracking.logMetrics(runId, List.copyOf(pending));
      pending.clear();
      return true;
    } catch (RuntimeException e) {
      log.warn(
          "MLflow did not take {} metric points (will retry): {}", pending.size(), e.toString());
      return false;
    }
  }
}
