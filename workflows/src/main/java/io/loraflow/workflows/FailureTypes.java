package io.loraflow.workflows;

import java.util.List;

/**
 * ApplicationFailure type names. Activities throw {@code
 * ApplicationFailure.newNonRetryableFailure(message, type)} with these for bad input; the workflow
 * also lists them as non-retryable in its retry policies, so a worker that throws them as plain
 * failures still stops retrying. The message names the bad value and how to fix it; the Temporal UI
 * shows it as the run's failure.
 */
public final class FailureTypes {
  public static final String INVALID_RUN_SPEC = "InvalidRunSpec";
  public static final String INVALID_DATASET = "InvalidDataset";
  public static final String DATASET_UNREACHABLE = "DatasetUnreachable";
  public static final String DATASET_NOT_ALLOWED = "DatasetNotAllowed";
  public static final String DATASET_TOO_LARGE = "DatasetTooLarge";
  public static final String UNKNOWN_BASE_MODEL = "UnknownBaseModel";
  public static final String INVALID_BASE_MODEL = "InvalidBaseModel";
  public static final String INVALID_TRAINING_CONFIG = "InvalidTrainingConfig";
  public static final String CANCELLED = "Cancelled";

  /** The admission gate's queue is full ({@code LORAFLOW_ADMISSION_MAX_WAITING}): never retried. */
  public static final String ADMISSION_REFUSED = "AdmissionRefused";

  /** A resume checkpoint that does not fit this run (other data, other plan): never retried. */
  public static final String CHECKPOINT_MISMATCH = "CheckpointMismatch";

  /** Out of memory even at micro-batch 1 (or where the fallback cannot apply): never retried. */
  public static final String OUT_OF_MEMORY = "OutOfMemory";

  /**
   * Retryable: no optimizer step completed within the stall window (a hung device call or a
   * deadlock); the next attempt resumes from the last checkpoint.
   */
  public static final String TRAINING_STALLED = "TrainingStalled";

  /**
   * The worker's runtime cannot load a class or native library it needs (a {@code LinkageError}: a
   * JRE without a module, a missing system library): the same worker fails the same way on every
   * attempt, so never retried; the message names what is missing.
   */
  public static final String WORKER_ENVIRONMENT = "WorkerEnvironment";

  /** Never retried, whoever throws them. */
  public static final List<String> NON_RETRYABLE =
      List.of(
          INVALID_RUN_SPEC,
          INVALID_DATASET,
          DATASET_UNREACHABLE,
          DATASET_NOT_ALLOWED,
          DATASET_TOO_LARGE,
          UNKNOWN_BASE_MODEL,
          INVALID_BASE_MODEL,
          INVALID_TRAINING_CONFIG,
          CHECKPOINT_MISMATCH,
          OUT_OF_MEMORY,
          ADMISSION_REFUSED,
          WORKER_ENVIRONMENT);

  private FailureTypes() {}
}
