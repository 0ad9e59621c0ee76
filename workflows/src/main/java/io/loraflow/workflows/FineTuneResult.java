package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * The result of a FineTune run: every step's output and the links to look at it.
 *
 * @param runId the workflow id, also the storage run id ({@code runs/<runId>/})
 * @param spec the run spec as resolved (defaults filled in)
 * @param model the prepared base model
 * @param dataset the normalized dataset
 * @param prompts the tokenized splits
 * @param train training output
 * @param eval evaluation output
 * @param registration the registered version
 * @param links Temporal UI, MLflow and MinIO console URLs
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record FineTuneResult(
    String runId,
    RunSpec spec,
    BaseModelRef model,
    DatasetRef dataset,
    PromptsRef prompts,
    TrainResult train,
    EvalResult eval,
    RegistrationResult registration,
    RunLinks links) {}
