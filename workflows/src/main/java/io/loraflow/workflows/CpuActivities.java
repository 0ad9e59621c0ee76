package io.loraflow.workflows;

import io.temporal.activity.ActivityInterface;

/**
 * Activities on {@link TaskQueues#CPU}. Each is idempotent (safe to retry) and throws non-retryable
 * ApplicationFailures of {@link FailureTypes} for bad input.
 */
@ActivityInterface
public interface CpuActivities {

  /**
   * Fetches, parses, validates and normalizes a dataset to question/answer JSONL and stores it once
   * under {@code datasets/<sha256>/} (an existing entry is never overwritten).
   */
  DatasetRef prepareDataset(DatasetRequest request);

  /**
   * Templates and tokenizes the dataset with the base model's tokenizer, splits it (seeded) and
   * stores the tokenized splits under {@code runs/<id>/prompts/}.
   */
  PromptsRef formatPrompts(PromptsRequest request);

  /** Opens (or finds again, by workflow-id tag) the run's MLflow run and logs its params. */
  TrackingRun openTrackingRun(TrackingStart request);

  /** Logs final metrics/tags and sets the MLflow run's status. */
  void closeTrackingRun(TrackingFinish request);

  /**
   * Registers the adapter as a new model version (or returns the one already registered for this
   * workflow), sets "candidate" and, when promoted, "champion".
   */
  RegistrationResult registerAdapter(RegistrationRequest request);

  /** URLs of the run in the Temporal UI, MLflow and the MinIO console. */
  RunLinks runLinks(LinksRequest request);
}
