package io.loraflow.gpu;

import io.loraflow.workflows.FailureTypes;
import io.temporal.failure.ApplicationFailure;
import java.util.function.Supplier;

/**
 * Turns a {@link LinkageError} out of an activity (a class or native library the worker's runtime
 * cannot load: a jlink'ed JRE without a module, a container without a system library) into one
 * non-retryable failure that names what is missing. Without it the SDK reports the Error as a
 * retryable failure, and the GPU activities' unlimited attempts repeat the same failure on the same
 * worker forever (seen on a GPU host: the loss curve's font library, 60 attempts in 6 minutes).
 */
final class WorkerEnvironment {
  private WorkerEnvironment() {}

  static <T> T guard(String activity, Supplier<T> body) {
    try {
      return body.get();
    } catch (LinkageError e) {
      throw failure(activity, e);
    }
  }

  static ApplicationFailure failure(String activity, LinkageError e) {
    Throwable root = e;
    while (root.getCause() != null) { // getCause() is null, never the error itself, at the end
      root = root.getCause();
    }
    return ApplicationFailure.newNonRetryableFailureWithCause(
        "the GPU worker's Java runtime cannot load what "
            + activity
            + " needs: "
            + root
            + "; install the missing library or module on the worker (or run the worker image,"
            + " deploy/), then start the run again",
        FailureTypes.WORKER_ENVIRONMENT,
        e);
  }
}
