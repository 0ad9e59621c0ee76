package io.loraflow.api.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Every error the API returns: the HTTP code, one sentence, and for bad input one entry per bad
 * field (its JSON path, what is wrong, and the value that was sent).
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ErrorBody(int code, String message, List<FieldError> errors) {

  public static ErrorBody of(int code, String message) {
    return new ErrorBody(code, message, List.of());
  }

  /** One bad field: {@code field} is the JSON path, e.g. {@code training.learningRate}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record FieldError(String field, String message, Object invalidValue) {}
}
