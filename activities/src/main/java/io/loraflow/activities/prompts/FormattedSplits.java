package io.loraflow.activities.prompts;

import io.loraflow.workflows.PromptStats;
import java.util.List;

/**
 * The tokenized train and eval splits plus the eval prompts for generation.
 *
 * @param train training examples in dataset order
 * @param eval held-out examples in dataset order
 * @param evalPrompts the held-out questions as generation prompts, same order as {@code eval}
 * @param stats lengths and truncations
 * @param trainPrompts the training questions as generation prompts, same order as {@code train}
 *     (the "seen" questions of the evaluation report)
 */
public record FormattedSplits(
    List<TokenizedExample> train,
    List<TokenizedExample> eval,
    List<EvalPrompt> evalPrompts,
    PromptStats stats,
    List<EvalPrompt> trainPrompts) {}
