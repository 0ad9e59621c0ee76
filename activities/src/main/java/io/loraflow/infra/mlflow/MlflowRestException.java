package io.loraflow.infra.mlflow;

/**
 * An MLflow REST call that the server answered with an error.
 *
 * @param errorCode MLflow's {@code error_code}, e.g. {@code RESOURCE_ALREADY_EXISTS}
 */
public class MlflowRestException extends RuntimeException {
  private final int status;
  private final String errorCode;

  public MlflowRestException(String message, int status, String errorCode) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }

  public int status() {
    return status;
  }

  public String errorCode() {
    return errorCode;
  }

  public boolean isNotFound() {
    return status == 404 || "RESOURCE_DOES_NOT_EXIST".equals(errorCode);
  }

  public boolean isAlreadyExists() {
    return "RESOURCE_ALREADY_EXISTS".equals(errorCode);
  }
}
