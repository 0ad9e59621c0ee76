package io.loraflow.engine.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token of one sequence from its logits, on the host, in HF's processor order:
 * repetition penalty, then (sampling only) temperature, top-k, top-p, softmax, draw.
 */
final class Sampler {

  private final GenerationConfig config;
  private final SplittableRandom random;

  Sampler(GenerationConfig config) {
    this.config = config;
    this.random = new SplittableRandom(config.seed());
  }

  /**
   * @param logits (V) fp32 scores of the next token; modified in place
   * @param seen ids in the prompt and output so far (for the repetition penalty)
   */
  int next(float[] logits, long[] seen, int seenCount) {
    if (config.repetitionPenalty() != 1.0) {
      penalize(logits, seen, seenCount, (float) config.repetitionPenalty());
    }
    if (config.greedy()) {
      return argmax(logits);
    }
    warp(logits, config);
    return draw(logits);
  }

  /** Temperature, top-k and top-p; removed tokens become -inf (HF warpers, same order). */
  static void warp(float[] logits, GenerationConfig config) {
    float temperature = (float) config.temperature();
    if (temperature != 1f) {
      for (int i = 0; i < logits.length; i++) {
        logits[i] /= temperature;
      }
    }
    if (config.topK() > 0 && config.topK() < logits.length) {
      keepTopK(logits, config.topK());
    }
    if (config.topP() < 1.0) {
      keepTopP(logits, config.topP());
    }
  }

  /** HF RepetitionPenaltyLogitsProcessor: each distinct seen id once. */
  static void penalize(float[] logits, long[] seen, int count, float penalty) {
    boolean[] done = new boolean[logits.length];
    for (int i = 0; i < count; i++) {
      int id = (int) seen[i];
      if (id < 0 || id >= logits.length || done[id]) {
        continue;
      }
      done[id] = true;
      logits[id] = logits[id] < 0 ? logits[id] * penalty : logits[id] / penalty;
    }
  }

  /** First index of the largest score (torch.argmax). */
  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  /** HF TopKLogitsWarper: drop scores below the K-th largest (ties at the threshold stay). */
  static void keepTopK(float[] logits, int k) {
    float[] sorted = logits.clone();
    Arrays.sort(sorted);
    float threshold = sorted[sorted.length - k];
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] < threshold) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /**
   * HF TopPLogitsWarper: ascending order, drop tokens whose cumulative probability is <= 1 - topP;
   * the most likely token always stays.
   */
  static void keepTopP(float[] logits, double topP) {
    int[] finite = finiteIds(logits);
    int n = finite.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = finite[i];
    }
    Arrays.sort(order, (a, b) -> Float.compare(logits[a], logits[b])); // stable
    double max = n == 0 ? 0 : logits[order[n - 1]];
    double sum = 0;
    for (int id : finite) {
      sum += Math.exp(logits[id] - max);
    }
    double cumulative = 0;
    for (int i = 0; i < n - 1; i++) {
      cumulative += Math.exp(logits[order[i]] - max) / sum;
      if (cumulative <= 1 - topP) {
        logits[order[i]] = Float.NEGATIVE_INFINITY;
      } else {
        break;
      }
    }
  }

  private static int[] finiteIds(float[] logits) {
    int n = 0;
    int[] ids = new int[logits.length];
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] != Float.NEGATIVE_INFINITY) {
        ids[n++] = i;
      }
    }
    return Arrays.copyOf(ids, n);
  }

  /** Softmax over the remaining tokens and one draw from this sequence's generator. */
  private int draw(float[] logits) {
    int[] ids = finiteIds(logits);
    float max = Float.NEGATIVE_INFINITY;
    for (int id : ids) {
      max = Math.max(max, logits[id]);
    }
    double[] probs = new double[ids.length];
    double sum = 0;
    for (int i = 0; i < ids.length; i++) {
      probs[i] = Math.exp(logits[ids[i]] - max);
      sum += probs[i];
    }
    double u = random.nextDouble() * sum;
    double acc = 0;
    for (int i = 0; i < ids.length; i++) {
      acc += probs[i];
      if (u < acc) {
        return ids[i];
      }
    }
    return ids[ids.length - 1];
  }
}
