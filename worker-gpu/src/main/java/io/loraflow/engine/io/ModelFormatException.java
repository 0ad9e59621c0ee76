package io.loraflow.engine.io;

import java.nio.file.Path;

/**
 * A model file that cannot be used: truncated, corrupt, of an unsupported type, or not matching
 * what the model needs. The message names the file (and the tensor, when one is at fault) and says
 * how to fix it. Thrown before anything is handed out, so a model is never half loaded.
 */
public class ModelFormatException extends RuntimeException {

  public ModelFormatException(String message) {
    super(message);
  }

  public ModelFormatException(String message, Throwable cause) {
    super(message, cause);
  }

  public static ModelFormatException inFile(Path file, String message) {
    return new ModelFormatException(file + ": " + message);
  }

  public static ModelFormatException inTensor(Path file, String tensor, String message) {
    return new ModelFormatException(file + ": tensor '" + tensor + "': " + message);
  }
}
