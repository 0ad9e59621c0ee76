package io.loraflow.workflows;

/**
 * Where a FineTune run is; reported by the progress query and the LoraflowPhase search attribute.
 */
public enum Phase {
  STARTING,
  PREPARING_DATASET,
  PREPARING_MODEL,
  FORMATTING_PROMPTS,
  TRAINING,
  EVALUATING,
  REGISTERING,
  COMPLETED,
  FAILED,
  CANCELLED;

  /** True once the run can no longer change. */
  public boolean isTerminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }
}
