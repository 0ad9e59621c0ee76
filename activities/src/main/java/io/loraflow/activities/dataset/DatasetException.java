package io.loraflow.activities.dataset;

import io.loraflow.workflows.FailureTypes;

/**
 * A dataset problem with a failure type from {@link FailureTypes} and whether retrying can help (a
 * server error may pass; a malformed record will not). The message says what is wrong, where, and
 * how to fix it; the activity turns it into an ApplicationFailure of the same type.
 */
public final class DatasetException extends RuntimeException {

  /** Transient fetch failures (timeouts, 5xx): retried by the activity's retry policy. */
  public static final String FETCH_FAILED = "DatasetFetchFailed";

  private final String type;
  private final boolean retryable;

  private DatasetException(String type, boolean retryable, String message, Throwable cause) {
    super(message, cause);
    this.type = type;
    this.retryable = retryable;
  }

  public static DatasetException invalid(String message) {
    return new DatasetException(FailureTypes.INVALID_DATASET, false, message, null);
  }

  public static DatasetException unreachable(String message, Throwable cause) {
    return new DatasetException(FailureTypes.DATASET_UNREACHABLE, false, message, cause);
  }

  public static DatasetException notAllowed(String message) {
    return new DatasetException(FailureTypes.DATASET_NOT_ALLOWED, false, message, null);
  }

  public static DatasetException tooLarge(String message) {
    return new DatasetException(FailureTypes.DATASET_TOO_LARGE, false, message, null);
  }

  public static DatasetException transientFailure(String message, Throwable cause) {
    return new DatasetException(FETCH_FAILED, true, message, cause);
  }

  /** The ApplicationFailure type name. */
  public String type() {
    return type;
  }

  public boolean retryable() {
    return retryable;
  }
}
