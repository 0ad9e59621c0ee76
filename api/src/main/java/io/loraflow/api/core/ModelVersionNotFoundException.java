package io.loraflow.api.core;

/** MLflow has no such registered model version or alias (HTTP 404). */
public final class ModelVersionNotFoundException extends RuntimeException {
  public ModelVersionNotFoundException(String message) {
    super(message);
  }
}
