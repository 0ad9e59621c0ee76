package io.loraflow.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.model.CausalLM;

/**
 * Next-token cross-entropy over answer tokens only, in float32: position t of row b predicts
 * labels[b][t + 1] unless that label is -100. Only the selected hidden states go through the LM
 * head, so prompt positions cost no (T, vocab) logits.
 */
final class CausalLmLoss {

  private CausalLmLoss() {}

  /** Flat indices b * T + t and their targets for every supervised position. */
  record Targets(long[] positions, long[] labels) {
    int count() {
      return positions.length;
    }
  }

  static Targets targets(long[][] labels, int seqLen) {
    int n = 0;
    for (long[] row : labels) {
      for (int t = 0; t + 1 < row.length; t++) {
        if (row[t + 1] != Example.IGNORE) {
          n++;
        }
      }
    }
    long[] pos = new long[n];
    long[] tgt = new long[n];
    int k = 0;
    for (int b = 0; b < labels.length; b++) {
      long[] row = labels[b];
      for (int t = 0; t + 1 < row.length; t++) {
        if (row[t + 1] != Example.IGNORE) {
          pos[k] = (long) b * seqLen + t;
          tgt[k++] = row[t + 1];
        }
      }
    }
    return new Targets(pos, tgt);
  }

  /**
   * Sum over supervised positions of -log p(target), a float32 scalar in hidden's manager.
   *
   * @param hidden (B, T, H) output of the last block
   */
  static NDArray sum(CausalLM model, NDArray hidden, Targets targets) {
    NDManager manager = hidden.getManager();
    long h = hidden.getShape().get(2);
    NDArray positions = manager.create(targets.positions()).toDevice(hidden.getDevice(), false);
    NDArray selected = hidden.reshape(-1, h).get(positions).reshape(1, targets.count(), h);
    NDArray logits = io.loraflow.engine.model.Casts.to(model.head(selected), DataType.FLOAT32);
    NDArray logProbs = logits.logSoftmax(-1).reshape(targets.count(), -1);
    NDArray labels =
        manager
            .create(targets.labels(), new Shape(targets.count(), 1))
            .toDevice(hidden.getDevice(), false);
    return logProbs.gather(labels, 1).sum().neg();
  }
}
