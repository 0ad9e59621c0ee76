package io.loraflow.engine.generate;

import java.util.List;

/**
 * How to continue a prompt. One validated record; the factories give the usual presets.
 *
 * @param maxNewTokens at most this many tokens are generated per sequence (>= 1)
 * @param greedy argmax decoding; when false, sample from the temperature/top-k/top-p filtered
 *     distribution
 * @param temperature logits are divided by it before sampling (> 0; ignored when greedy)
 * @param topP nucleus: keep the smallest set of tokens whose probability reaches topP (0 < topP <=
 *     1, 1 = off; ignored when greedy)
 * @param topK keep the K most likely tokens (0 = off; ignored when greedy)
 * @param repetitionPenalty HF/CTRL penalty on every token already in the prompt or output: positive
 *     logits divided by it, negative ones multiplied (1 = off, must be > 0)
 * @param seed sampling seed; every sequence of a batch draws from its own generator seeded with it,
 *     so a prompt samples the same tokens alone or in any batch
 * @param stopStrings generation of a sequence stops when its text contains one of these (the stop
 *     string itself is cut from the text)
 * @param eosTokenIds generation of a sequence stops at any of these ids (not part of the output);
 *     empty = use the model config's EOS ids
 */
public record GenerationConfig(
    int maxNewTokens,
    boolean greedy,
    double temperature,
    double topP,
    int topK,
    double repetitionPenalty,
    long seed,
    List<String> stopStrings,
    List<Integer> eosTokenIds) {

  public GenerationConfig {
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
    }
    if (!(temperature > 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + topK);
    }
    if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
      throw new IllegalArgumentException(
          "repetitionPenalty must be > 0 (1 = off), got " + repetitionPenalty);
    }
    stopStrings = List.copyOf(stopStrings);
    for (String s : stopStrings) {
      if (s.isEmpty()) {
        throw new IllegalArgumentException("stop strings must not be empty");
      }
    }
    eosTokenIds = List.copyOf(eosTokenIds);
    for (int id : eosTokenIds) {
      if (id < 0) {
        throw new IllegalArgumentException("EOS token ids must be >= 0, got " + id);
      }
    }
  }

  /** Argmax decoding, no penalty, stop on the model's EOS. */
  public static GenerationConfig greedy(int maxNewTokens) {
    return new GenerationConfig(maxNewTokens, true, 1.0, 1.0, 0, 1.0, 0, List.of(), List.of());
  }

  /** Sampling with the given temperature, top-p and top-k (0 = off). */
  public static GenerationConfig sampling(
      int maxNewTokens, double temperature, double topP, int topK, long seed) {
    return new GenerationConfig(
        maxNewTokens, false, temperature, topP, topK, 1.0, seed, List.of(), List.of());
  }

  public GenerationConfig withRepetitionPenalty(double penalty) {
    return new GenerationConfig(
        maxNewTokens, greedy, temperature, topP, topK, penalty, seed, stopStrings, eosTokenIds);
  }

  public GenerationConfig withStopStrings(List<String> stops) {
    return new GenerationConfig(
        maxNewTokens, greedy, temperature, topP, topK, repetitionPenalty, seed, stops, eosTokenIds);
  }

  public GenerationConfig withEosTokenIds(List<Integer> eos) {
    return new GenerationConfig(
        maxNewTokens, greedy, temperature, topP, topK, repetitionPenalty, seed, stopStrings, eos);
  }

  public GenerationConfig withSeed(long newSeed) {
    return new GenerationConfig(
        maxNewTokens,
        greedy,
        temperature,
        topP,
        topK,
        repetitionPenalty,
        newSeed,
        stopStrings,
        eosTokenIds);
  }
}
