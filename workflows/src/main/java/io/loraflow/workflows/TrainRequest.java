package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Input of {@link GpuActivities#train}: everything the stateless GPU worker needs.
 *
 * @param runId the run; checkpoints go to {@code runs/<runId>/checkpoints/step-<n>/}, the adapter
 *     to {@code runs/<runId>/adapter/}
 * @param model the base model in the object store
 * @param prompts the tokenized splits
 * @param training hyper-parameters
 * @param mlflowRunId where step metrics go (in batches)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrainRequest(
    String runId,
    BaseModelRef model,
    PromptsRef prompts,
    TrainingSpec training,
    String mlflowRunId) {}
