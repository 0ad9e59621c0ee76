package io.loraflow.engine.model;

/** A model could not be built from its weights: missing tensor, wrong shape, unsupported option. */
public class ModelLoadException extends RuntimeException {

  public ModelLoadException(String message) {
    super(message);
  }

  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
