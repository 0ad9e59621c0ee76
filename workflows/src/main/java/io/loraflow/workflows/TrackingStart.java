package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Map;

/**
 * Input of {@link CpuActivities#openTrackingRun}: one MLflow run per workflow, found again by the
 * tag {@code loraflow.workflow_id} on retries (so a retried activity never opens a second run).
 *
 * @param workflowId the workflow id (also the run id and the MLflow run name)
 * @param experimentName MLflow experiment (created when missing)
 * @param params the resolved configuration ({@link RunSpec#toParams()})
 * @param tags extra tags (base model, dataset hash, ...)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrackingStart(
    String workflowId,
    String experimentName,
    Map<String, String> params,
    Map<String, String> tags) {

  public TrackingStart {
    params = OrderedMaps.copy(params);
    tags = OrderedMaps.copy(tags);
  }
}
