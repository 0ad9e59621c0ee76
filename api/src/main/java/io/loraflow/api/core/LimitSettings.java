package io.loraflow.api.core;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.util.Duration;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/**
 * Bounds on what clients may ask of the service.
 *
 * @param maxBodyBytes largest request body (413 above it)
 * @param runsPerKey most active or queued runs (RUNNING FineTune workflows) one API key may have
 *     started; one more is 429 with Retry-After
 * @param runsTotal most active or queued runs in the namespace, whoever started them
 * @param retryAfter the Retry-After of a 429 (a training run takes minutes: 30 s is polite)
 */
public record LimitSettings(
    @Min(1024) @Max(16 << 20) int maxBodyBytes,
    @Min(1) @Max(10_000) int runsPerKey,
    @Min(1) @Max(100_000) int runsTotal,
    @NotNull Duration retryAfter) {

  public static LimitSettings defaults() {
    return new LimitSettings(64 << 10, 10, 50, Duration.seconds(30));
  }

  @JsonProperty
  public long retryAfterSeconds() {
    return Math.max(1, retryAfter.toSeconds());
  }
}
