package io.loraflow.api.core;

/** The request contradicts the run's state or an earlier request (HTTP 409). */
public final class RunConflictException extends RuntimeException {
  public RunConflictException(String message) {
    super(message);
  }
}
