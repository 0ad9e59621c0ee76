package io.loraflow.api.core;

import java.util.List;

/** A run spec with problems, each a sentence that starts with the field's JSON path (HTTP 400). */
public final class InvalidRunSpecException extends RuntimeException {
  private final List<String> problems;

  public InvalidRunSpecException(List<String> problems) {
    super("invalid run spec: " + String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
