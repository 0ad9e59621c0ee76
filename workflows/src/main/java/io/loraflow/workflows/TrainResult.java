package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Map;

/**
 * What training produced.
 *
 * @param adapterKey prefix of the PEFT adapter ({@code runs/<id>/adapter/})
 * @param steps optimizer steps done
 * @param finalLoss mean loss of the last optimizer step
 * @param metrics summary metrics for tracking (e.g. "train_loss", "tokens_per_second",
 *     "train_seconds", "peak_memory_bytes", "resumes")
 * @param checkpointKey prefix of the last complete checkpoint
 * @param mlflowRunId the MLflow run the metrics went to
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrainResult(
    String adapterKey,
    long steps,
    double finalLoss,
    Map<String, Double> metrics,
    String checkpointKey,
    String mlflowRunId) {

  public TrainResult {
    metrics = OrderedMaps.copy(metrics);
  }
}
