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
 * @param trainPromptsKey {@code runs/<id>/prompts/train-prompts.jsonl}: the training questions as
 *     {"question","reference","prompt"} lines in train.jsonl order (null in runs older than the
 *     field: their report has no seen-question section)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PromptsRef(
    String trainKey,
    String evalKey,
    String evalPromptsKey,
    String statsKey,
    String tokenizerKey,
    PromptStats stats,
    String trainPromptsKey) {

  /** Splits without the training prompts (no seen-question evaluation). */
  public PromptsRef(
      String trainKey,
      String evalKey,
      String evalPromptsKey,
      String statsKey,
      String tokenizerKey,
      PromptStats stats) {
    this(trainKey, evalKey, evalPromptsKey, statsKey, tokenizerKey, stats, null);
  }
}
