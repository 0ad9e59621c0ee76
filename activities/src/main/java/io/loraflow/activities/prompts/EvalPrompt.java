package io.loraflow.activities.prompts;

/**
 * One line of eval-prompts.jsonl: the generator encodes {@code prompt} with special tokens (as
 * training did) and its answer is scored against {@code reference}.
 */
public record EvalPrompt(String question, String reference, String prompt) {}
