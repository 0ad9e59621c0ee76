package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Map;

/**
 * Input of {@link CpuActivities#closeTrackingRun}. Idempotent: closing a closed run only logs what
 * is missing.
 *
 * @param mlflowRunId the run
 * @param status "FINISHED", "FAILED" or "KILLED"
 * @param metrics final metrics (eval loss, perplexity, ROUGE-L, ... of base and adapter)
 * @param tags final tags (e.g. "loraflow.failure" with the failure message)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrackingFinish(
    String mlflowRunId, String status, Map<String, Double> metrics, Map<String, String> tags) {

  public TrackingFinish {
    metrics = OrderedMaps.copy(metrics);
    tags = OrderedMaps.copy(tags);
  }
}
