package io.loraflow.api.core;

/** A named thing (schedule, registered model, MLflow run) that does not exist (HTTP 404). */
public final class NotFoundException extends RuntimeException {
  public NotFoundException(String message) {
    super(message);
  }
}
