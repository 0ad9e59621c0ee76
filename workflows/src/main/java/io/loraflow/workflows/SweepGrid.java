package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.List;

/**
 * The hyper-parameter grid of a {@link SweepSpec}: every combination of the listed values is one
 * FineTune child (cartesian product, in the order r, alpha, learning rate, epochs). A missing or
 * empty list keeps the base spec's value.
 *
 * @param loraR LoRA ranks, e.g. [8, 16]
 * @param loraAlpha LoRA alphas, e.g. [16, 32]
 * @param learningRate peak learning rates, e.g. [2e-4, 1e-3]
 * @param epochs epoch counts, e.g. [1, 3]
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SweepGrid(
    List<Integer> loraR, List<Integer> loraAlpha, List<Double> learningRate, List<Integer> epochs) {

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

  /** Null values in the lists, each naming the list. */
  List<String> problems() {
    List<String> p = new ArrayList<>();
    nulls(p, "grid.loraR", loraR);
    nulls(p, "grid.loraAlpha", loraAlpha);
    nulls(p, "grid.learningRate", learningRate);
    nulls(p, "grid.epochs", epochs);
    return p;
  }

  private static void nulls(List<String> p, String name, List<?> values) {
    if (values.stream().anyMatch(java.util.Objects::isNull)) {
      p.add(name + " holds a null value: list numbers only, e.g. [8, 16]");
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
