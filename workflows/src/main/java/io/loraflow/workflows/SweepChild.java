package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * One child of a sweep, as the sweep saw it end.
 *
 * @param index position in the grid (0-based)
 * @param workflowId the child FineTune workflow ({@code <sweep id>-c<index>})
 * @param loraR the child's LoRA rank
 * @param loraAlpha the child's LoRA alpha
 * @param learningRate the child's peak learning rate
 * @param epochs the child's epochs
 * @param status "COMPLETED" or "FAILED"
 * @param failure why it failed (type: message), null when completed
 * @param adapterEvalLoss held-out eval loss of its adapter (the sweep's ranking metric), null when
 *     failed
 * @param rougeL held-out ROUGE-L of its adapter, null when failed
 * @param mlflowRunId its MLflow run (a child of the sweep's parent run), null when unknown
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SweepChild(
    int index,
    String workflowId,
    int loraR,
    int loraAlpha,
    double learningRate,
    int epochs,
    String status,
    String failure,
    Double adapterEvalLoss,
    Double rougeL,
    String mlflowRunId) {

  public boolean completed() {
    return "COMPLETED".equals(status);
  }
}
