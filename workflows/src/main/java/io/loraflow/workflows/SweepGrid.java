package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.List;

/**
 * The hyper-parameter grid of a {@link SweepSpec}: every combination of the listed values is one
 * FineTune child (cartesian product, in the order r, alpha, learning rate, epochs). A missing or
 * empty list keeps the base spec's value.
 *
 * <p>Each list is bounded on its own (at most {@link #MAX_R} ranks, {@link #MAX_ALPHA} alphas,
 * {@link #MAX_LR} learning rates, {@link #MAX_EPOCHS} epoch counts) so that the product, at most
 * {@link #MAX_COMBINATIONS}, follows from bounds that a JSON Schema can state (maxItems): a grid
 * the served OpenAPI document accepts is a grid the API accepts. Epochs get the fewest values since
 * early stopping and best-by-held-out publishing already choose the step within one run.
 *
 * @param loraR LoRA ranks, e.g. [8, 16]
 * @param loraAlpha LoRA alphas, e.g. [16, 32]
 * @param learningRate peak learning rates, e.g. [2e-4, 1e-3]
 * @param epochs epoch counts, e.g. [1, 3]
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SweepGrid(
    List<Integer> loraR, List<Integer> loraAlpha, List<Double> learningRate, List<Integer> epochs) {

  /** Most LoRA ranks in one grid. */
  public static final int MAX_R = 4;

  /** Most LoRA alphas in one grid. */
  public static final int MAX_ALPHA = 2;

  /** Most learning rates in one grid. */
  public static final int MAX_LR = 4;

  /** Most epoch counts in one grid. */
  public static final int MAX_EPOCHS = 2;

  /** Most combinations: the product of the per-list bounds (64). */
  public static final int MAX_COMBINATIONS = MAX_R * MAX_ALPHA * MAX_LR * MAX_EPOCHS;

  public SweepGrid {
    // copies that keep a null element, so that problems() names it instead of a crash here
    loraR = copy(loraR);
    loraAlpha = copy(loraAlpha);
    learningRate = copy(learningRate);
    epochs = copy(epochs);
  }

  /** Number of combinations. */
  public long size() {
    return (long) n(loraR) * n(loraAlpha) * n(learningRate) * n(epochs);
  }

  /** Every combination applied to {@code base}, in a fixed order. */
  public List<TrainingSpec> apply(TrainingSpec base) {
    List<TrainingSpec> out = new ArrayList<>();
    for (Integer r : orBase(loraR, base.loraR())) {
      for (Integer alpha : orBase(loraAlpha, base.loraAlpha())) {
        for (Double lr : orBase(learningRate, base.learningRate())) {
          for (Integer ep : orBase(epochs, base.epochs())) {
            out.add(
                new TrainingSpec(
                    ep,
                    lr,
                    r,
                    alpha,
                    base.loraDropout(),
                    base.targetModules(),
                    base.maxSeqLen(),
                    base.batchSize(),
                    base.gradAccum(),
                    base.seed(),
                    base.precision(),
                    base.checkpointEverySteps(),
                    base.optimizer(),
                    base.schedule(),
                    base.warmupRatio(),
                    base.evalEverySteps(),
                    base.earlyStoppingPatience(),
                    base.earlyStoppingMinDelta()));
          }
        }
      }
    }
    return out;
  }

  /** Null values and over-long lists, each naming the list. */
  List<String> problems() {
    List<String> p = new ArrayList<>();
    check(p, "grid.loraR", loraR, MAX_R, "[8, 16]");
    check(p, "grid.loraAlpha", loraAlpha, MAX_ALPHA, "[16, 32]");
    check(p, "grid.learningRate", learningRate, MAX_LR, "[2e-4, 1e-3]");
    check(p, "grid.epochs", epochs, MAX_EPOCHS, "[1, 3]");
    return p;
  }

  private static void check(List<String> p, String name, List<?> values, int max, String example) {
    if (values.stream().anyMatch(java.util.Objects::isNull)) {
      p.add(name + " holds a null value: list numbers only, e.g. " + example);
    }
    if (values.size() > max) {
      p.add(
          name
              + " lists "
              + values.size()
              + " values; at most "
              + max
              + " (a sweep runs at most "
              + MAX_COMBINATIONS
              + " combinations: "
              + MAX_R
              + " ranks x "
              + MAX_ALPHA
              + " alphas x "
              + MAX_LR
              + " learning rates x "
              + MAX_EPOCHS
              + " epoch counts): split it into several sweeps");
    }
  }

  private static <T> List<T> copy(List<T> l) {
    return l == null ? List.of() : java.util.Collections.unmodifiableList(new ArrayList<>(l));
  }

  private static int n(List<?> l) {
    return l.isEmpty() ? 1 : l.size();
  }

  private static <T> List<T> orBase(List<T> values, T base) {
    return values.isEmpty() ? List.of(base) : values;
  }
}
