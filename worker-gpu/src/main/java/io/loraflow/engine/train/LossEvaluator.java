package io.loraflow.engine.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.model.AttentionStep;
import io.loraflow.engine.model.CausalLM;
import java.util.List;

/** Answer-token cross-entropy of a batch without gradients (eval loss). */
public final class LossEvaluator {

  private LossEvaluator() {}

  /** {sum of token losses, number of target tokens} for one right-padded batch. */
  public static double[] batchLoss(CausalLM model, List<Example> batch, Device device) {
    int rows = batch.size();
    int seqLen = batch.stream().mapToInt(Example::length).max().orElseThrow();
    long[] ids = new long[rows * seqLen];
    long[] positions = new long[rows * seqLen];
    long[] keep = new long[rows * seqLen];
    long[][] labels = new long[rows][seqLen];
    boolean padded = false;
    for (int b = 0; b < rows; b++) {
      Example e = batch.get(b);
      java.util.Arrays.fill(labels[b], Example.IGNORE);
      for (int t = 0; t < seqLen; t++) {
        positions[b * seqLen + t] = t;
        if (t < e.length()) {
          ids[b * seqLen + t] = e.inputIds()[t];
          labels[b][t] = e.labels()[t];
          keep[b * seqLen + t] = 1;
        } else {
          padded = true;
        }
      }
    }
    CausalLmLoss.Targets targets = CausalLmLoss.targets(labels, seqLen);
    if (targets.count() == 0) {
      return new double[] {0, 0};
    }
    try (NDManager m = NDManager.newBaseManager(device)) {
      AttentionStep step =
          new AttentionStep(
              m.create(positions, new Shape(rows, seqLen)),
              padded ? m.create(keep, new Shape(rows, seqLen)) : null,
              null);
      NDArray h = model.embed(m.create(ids, new Shape(rows, seqLen)));
      for (int l = 0; l < model.config().numLayers(); l++) {
        try (NDManager blockScope = m.newSubManager()) {
          h.tempAttach(blockScope);
          NDArray out = model.block(l, h, step);
          out.attach(m);
          h = out;
        }
      }
      double sum = CausalLmLoss.sum(model, h, targets).getFloat();
      return new double[] {sum, targets.count()};
    }
  }
}
