package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Statistics of the tokenized splits (lengths in tokens, EOS included).
 *
 * @param template the template used ("default", "chat" or the custom template)
 * @param trainExamples examples in the train split
 * @param evalExamples examples in the eval split
 * @param meanLength mean tokens per example over both splits
 * @param p95Length 95th percentile of tokens per example
 * @param maxLength longest example before truncation
 * @param truncated examples cut to maxSeqLen
 * @param answerTokens trained (label != -100) tokens in the train split
 * @param dropped examples left out because their prompt alone filled maxSeqLen (no answer token
 *     would remain)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PromptStats(
    String template,
    int trainExamples,
    int evalExamples,
    double meanLength,
    int p95Length,
    int maxLength,
    int truncated,
    long answerTokens,
    int dropped) {}
