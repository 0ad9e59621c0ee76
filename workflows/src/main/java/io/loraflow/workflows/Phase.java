package io.loraflow.workflows;

/**
 * Where a FineTune run is; reported by the progress query and the LoraflowPhase search attribute.
 */
public enum Phase {
  STARTING,
  PREPARING_DATASET,
  /** Waiting at the FIFO admission gate for a run slot (no activity runs meanwhile). */
  QUEUED,
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
