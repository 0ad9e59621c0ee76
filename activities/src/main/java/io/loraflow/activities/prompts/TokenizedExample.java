package io.loraflow.activities.prompts;

/**
 * One tokenized example in the layout of CONTRACTS.md, Hugging Face convention: {@code labels[i]}
 * is the target of position i before the shift (the loss compares logits at i with labels at i +
 * 1), -100 on prompt positions; both arrays have the same length.
 *
 * @param inputIds prompt tokens, answer tokens, EOS (cut at maxSeqLen)
 * @param labels -100 for prompt tokens, else equal to inputIds (EOS included)
 * @param fullLength length before truncation
 * @param truncated true when cut to maxSeqLen (EOS is then lost)
 */
public record TokenizedExample(long[] inputIds, long[] labels, int fullLength, boolean truncated) {

  /** Positions that count in the loss. */
  public int answerTokens() {
    int n = 0;
    for (long l : labels) {
      if (l != PromptFormatter.IGNORE_INDEX) {
        n++;
      }
    }
    return n;
  }
}
