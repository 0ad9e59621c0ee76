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
 * @param bestStep the step whose adapter was published: the best held-out evaluation during
 *     training, or the last step when the run did not evaluate (null in results of older runs)
 * @param bestEvalLoss held-out loss at bestStep, null when the run did not evaluate during training
 * @param stoppedEarly early stopping ended training before its planned steps
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrainResult(
    String adapterKey,
    long steps,
    double finalLoss,
    Map<String, Double> metrics,
    String checkpointKey,
    String mlflowRunId,
    Long bestStep,
    Double bestEvalLoss,
    Boolean stoppedEarly) {

  public TrainResult {
    metrics = OrderedMaps.copy(metrics);
    stoppedEarly = stoppedEarly != null && stoppedEarly;
  }

  /** A result without evaluation during training (the last step's adapter). */
  public TrainResult(
      String adapterKey,
      long steps,
      double finalLoss,
      Map<String, Double> metrics,
      String checkpointKey,
      String mlflowRunId) {
    this(adapterKey, steps, finalLoss, metrics, checkpointKey, mlflowRunId, steps, null, false);
  }
}
