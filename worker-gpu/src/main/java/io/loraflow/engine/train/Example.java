package io.loraflow.engine.train;

/**
 * One tokenized training sequence (CONTRACTS.md): labels align with inputIds (HF convention: the
 * model predicts labels[t + 1] from inputIds[..t]); -100 masks a position (prompt, padding).
 *
 * @param inputIds token ids, length T
 * @param labels target ids or -100, length T; the answer and its EOS are kept
 */
public record Example(long[] inputIds, long[] labels) {

  public static final long IGNORE = -100;

  public Example {
    if (inputIds.length == 0 || inputIds.length != labels.length) {
      throw new IllegalArgumentException(
          "an example needs input_ids and labels of equal, non-zero length, got "
              + inputIds.length
              + " and "
              + labels.length);
    }
  }

  public int length() {
    return inputIds.length;
  }

  /** Positions that contribute to the loss after the shift (labels[1..] != -100). */
  public int targetTokens() {
    int n = 0;
    for (int i = 1; i < labels.length; i++) {
      if (labels[i] != IGNORE) {
        n++;
      }
    }
    return n;
  }

  /** The first {@code maxLen} tokens. */
  public Example truncate(int maxLen) {
    if (inputIds.length <= maxLen) {
      return this;
    }
    return new Example(
        java.util.Arrays.copyOf(inputIds, maxLen), java.util.Arrays.copyOf(labels, maxLen));
  }
}
