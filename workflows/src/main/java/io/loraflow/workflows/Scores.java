package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Mean answer scores over the eval prompts, each in [0, 1].
 *
 * @param rougeL ROUGE-L F-measure (rouge-score's tokenization: lowercase, alphanumeric tokens)
 * @param tokenF1 SQuAD-style token F1
 * @param exactMatch SQuAD-style exact match rate
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Scores(double rougeL, double tokenF1, double exactMatch) {}
