package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Input of {@link CpuActivities#formatPrompts}.
 *
 * @param runId the run (outputs go to {@code runs/<runId>/prompts/})
 * @param dataset the normalized dataset
 * @param model the base model (its tokenizer.json, chat template and EOS ids)
 * @param template "default", "chat" or a custom template ({@link RunSpec#template})
 * @param maxSeqLen truncation length in tokens
 * @param evalFraction held-out fraction
 * @param seed split seed
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PromptsRequest(
    String runId,
    DatasetRef dataset,
    BaseModelRef model,
    String template,
    int maxSeqLen,
    double evalFraction,
    long seed) {}
