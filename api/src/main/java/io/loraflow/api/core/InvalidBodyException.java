package io.loraflow.api.core;

import io.loraflow.api.api.ErrorBody;
import java.util.List;

/** A request body that is not valid JSON or does not fit its schema: 400, every problem listed. */
public final class InvalidBodyException extends RuntimeException {
  private final List<ErrorBody.FieldError> errors;

  public InvalidBodyException(String message, List<ErrorBody.FieldError> errors) {
    super(message);
    this.errors = List.copyOf(errors);
  }

  public List<ErrorBody.FieldError> errors() {
    return errors;
  }
}
