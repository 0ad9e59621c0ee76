package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * The tokenized splits of a run (formats in CONTRACTS.md).
 *
 * @param trainKey {@code runs/<id>/prompts/train.jsonl}: {"input_ids":[...],"labels":[...]} lines
 * @param evalKey {@code runs/<id>/prompts/eval.jsonl}: same format, held-out split
 * @param evalPromptsKey {@code runs/<id>/prompts/eval-prompts.jsonl}: {"question","reference",
 *     "prompt"} lines
 * @param statsKey {@code runs/<id>/prompts/stats.json}
 * @param tokenizerKey the tokenizer.json used
 * @param stats lengths and truncations
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PromptsRef(
    String trainKey,
    String evalKey,
    String evalPromptsKey,
    String statsKey,
    String tokenizerKey,
    PromptStats stats) {}
