package io.loraflow.api.core;

/**
 * A server of the stack (MLflow, Temporal) did not answer or answered an error the caller cannot
 * fix: 503 when it is unreachable, 502 otherwise. The message names the server and what to do.
 */
public final class UpstreamException extends RuntimeException {
  private final int status;

  public UpstreamException(int status, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  public int status() {
    return status;
  }

  /** MLflow's failure as 503 (unreachable) or 502 (an error answer), without its response body. */
  public static UpstreamException mlflow(java.net.URI mlflow, RuntimeException e) {
    if (e instanceof io.loraflow.infra.mlflow.MlflowRestException m) {
      return new UpstreamException(
          502,
          "MLflow at "
              + mlflow
              + " answered HTTP "
              + m.status()
              + (m.errorCode().isEmpty() ? "" : " " + m.errorCode())
              + "; see the MLflow server's log",
          e);
    }
    return new UpstreamException(
        503,
        "MLflow at " + mlflow + " is not reachable; start the stack with `loraflow stack up`",
        e);
  }
}
