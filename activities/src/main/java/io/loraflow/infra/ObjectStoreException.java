package io.loraflow.infra;

/** A failed object-store call; the message names the bucket, the key and the server's answer. */
public class ObjectStoreException extends RuntimeException {
  public ObjectStoreException(String message, Throwable cause) {
    super(message, cause);
  }

  public ObjectStoreException(String message) {
    super(message);
  }
}
