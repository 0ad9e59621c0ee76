package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Input of {@link GpuActivities#generate}: one prompt answered by a base model with a run's
 * adapter.
 *
 * @param runId the run whose adapter to load (for the work directory and logs)
 * @param model the prepared base model
 * @param adapterKey the adapter prefix in the object store, {@code runs/<id>/adapter/}
 * @param prompt the full prompt text, already in the run's template (the generation prompt)
 * @param maxNewTokens at most this many new tokens (1-512)
 * @param temperature 0 = greedy; above 0 samples with this temperature
 * @param seed sampling seed
 * @param precision "auto", "fp16" or "fp32"
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TryRequest(
    String runId,
    BaseModelRef model,
    String adapterKey,
    String prompt,
    int maxNewTokens,
    double temperature,
    long seed,
    String precision) {}
