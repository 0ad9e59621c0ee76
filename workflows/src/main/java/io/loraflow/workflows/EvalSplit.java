package io.loraflow.workflows;

import java.util.Optional;

/**
 * The train/eval split rule, shared by formatPrompts (which splits) and the workflow (which checks
 * it right after prepareDataset, on the CPU, before any step waits for a GPU): {@code round(n *
 * evalFraction)} examples, at least 1 when evalFraction &gt; 0, are held out.
 */
public final class EvalSplit {
  private EvalSplit() {}

  /** How many of {@code n} examples are held out for evaluation. */
  public static int evalCount(int n, double evalFraction) {
    return evalFraction == 0 ? 0 : (int) Math.max(1, Math.round(n * evalFraction));
  }

  /** Why {@code n} examples cannot be split, or empty when they can. */
  public static Optional<String> problem(int n, double evalFraction) {
    int held = evalCount(n, evalFraction);
    if (n - held >= 1) {
      return Optional.empty();
    }
    return Optional.of(
        "the dataset has "
            + n
            + " example(s); holding out "
            + held
            + " for evaluation leaves none to train on. Add examples or lower evalFraction");
  }
}
