package io.loraflow.api.core;

/** The admission limit is reached: 429 with Retry-After. */
public final class TooManyRunsException extends RuntimeException {
  private final long retryAfterSeconds;

  public TooManyRunsException(String message, long retryAfterSeconds) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
