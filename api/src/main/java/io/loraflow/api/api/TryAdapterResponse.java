package io.loraflow.api.api;

/**
 * An adapter's answer to one prompt.
 *
 * @param runId the run whose adapter answered
 * @param baseModel its base model
 * @param prompt the full prompt text the model was given (the question in the run's template)
 * @param answer the generated text
 * @param promptTokens tokens in the prompt
 * @param newTokens tokens generated
 * @param stoppedAtEos true when the model ended its answer, false when maxNewTokens cut it
 * @param seconds time on the GPU worker (loading included)
 * @param tryId the Temporal workflow that ran it (TryAdapter)
 */
public record TryAdapterResponse(
    String runId,
    String baseModel,
    String prompt,
    String answer,
    int promptTokens,
    int newTokens,
    boolean stoppedAtEos,
    double seconds,
    String tryId) {}
