package io.loraflow.activities.cpu;

import io.loraflow.workflows.TrackingRun;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/**
 * The experiment-tracking operations the CPU activities need (MLflow runs). Implemented by the
 * infrastructure's MLflow client; the find-again-by-tag logic lives in {@link CpuActivitiesImpl}.
 */
public interface RunTracker {

  /** The run of experiment {@code experimentName} whose tag {@code key} equals {@code value}. */
  Optional<TrackingRun> findRunByTag(String experimentName, String key, String value)
      throws IOException;

  /** Creates the experiment when missing and a new run in it with the given name and tags. */
  TrackingRun createRun(String experimentName, String runName, Map<String, String> tags)
      throws IOException;

  /** Logs params; re-logging a param with the same value is a no-op. */
  void logParams(String runId, Map<String, String> params) throws IOException;

  /** Logs metrics at one step, in one batch. */
  void logMetrics(String runId, Map<String, Double> metrics, long step) throws IOException;

  /** Sets tags. */
  void setTags(String runId, Map<String, String> tags) throws IOException;

  /** Ends the run: "FINISHED", "FAILED" or "KILLED". */
  void setStatus(String runId, String status) throws IOException;
}
