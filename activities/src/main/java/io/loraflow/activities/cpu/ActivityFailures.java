package io.loraflow.activities.cpu;

import io.loraflow.activities.dataset.DatasetException;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;

/** Turns the cores' exceptions into ApplicationFailures whose type and retry flag are right. */
final class ActivityFailures {

  /** The object store, MLflow or another service failed: retried by the workflow's policy. */
  static final String SERVICE_UNAVAILABLE = "ServiceUnavailable";

  private ActivityFailures() {}

  static ApplicationFailure of(DatasetException e) {
    return e.retryable()
        ? ApplicationFailure.newFailureWithCause(e.getMessage(), e.type(), e)
        : ApplicationFailure.newNonRetryableFailure(e.getMessage(), e.type());
  }

  static ApplicationFailure badInput(String type, String message) {
    return ApplicationFailure.newNonRetryableFailure(message, type);
  }

  static ApplicationFailure service(String what, IOException e) {
    return ApplicationFailure.newFailureWithCause(
        what + " failed: " + e.getMessage(), SERVICE_UNAVAILABLE, e);
  }
}
