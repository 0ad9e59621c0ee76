package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * What {@link GpuActivities#generate} answered.
 *
 * @param answer the generated text (special tokens removed, trimmed)
 * @param promptTokens tokens in the prompt
 * @param newTokens tokens generated
 * @param stoppedAtEos true when generation ended on an end token, false when it hit maxNewTokens
 * @param seconds wall time of loading and generating
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TryResult(
    String answer, int promptTokens, int newTokens, boolean stoppedAtEos, double seconds) {}
