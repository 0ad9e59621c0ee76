package io.loraflow.engine.generate;

import java.util.List;

/**
 * A batch's generations and timing.
 *
 * @param sequences one per prompt, in prompt order
 * @param prefillNanos time for the prompt forward (first token's logits)
 * @param decodeNanos time for all following steps
 * @param decodeSteps forward calls after the prefill
 */
public record GenerationResult(
    List<Generation> sequences, long prefillNanos, long decodeNanos, int decodeSteps) {

  /** Tokens generated over all sequences. */
  public int generatedTokens() {
    return sequences.stream().mapToInt(g -> g.tokens().length).sum();
  }

  /** Generated tokens per second of wall time, prefill included. */
  public double tokensPerSecond() {
    return generatedTokens() / ((prefillNanos + decodeNanos) / 1e9);
  }
}
