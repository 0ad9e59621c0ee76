package io.loraflow.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
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
   * The targets as device arrays, made before the forward pass: creating them after it would make
   * the host wait for the whole forward (a host-to-GPU copy synchronizes the stream).
   *
   * @return {positions (count) int64, labels (count, 1) int64} in {@code manager}
   */
  static NDArray[] onDevice(Targets targets, NDManager manager) {
    NDArray positions = manager.create(targets.positions());
    NDArray labels = manager.create(targets.labels(), new Shape(targets.count(), 1));
    return new NDArray[] {positions, labels};
  }

  /**
   * Sum over supervised positions of -log p(target), a float32 scalar in hidden's manager.
   *
   * @param hidden (B, T, H) output of the last block
   */
  static NDArray sum(CausalLM model, NDArray hidden, Targets targets) {
    NDArray[] device = onDevice(targets, hidden.getManager());
    return sum(model, hidden, device[0], device[1]);
  }

  /**
   * Sum over supervised positions of -log p(target), a float32 scalar in hidden's manager.
   *
   * @param hidden (B, T, H) output of the last block
   * @param positions (n) int64 flat indices b * T + t, labels (n, 1) int64, from {@link #onDevice}
   */
  static NDArray sum(CausalLM model, NDArray hidden, NDArray positions, NDArray labels) {
    long h = hidden.getShape().get(2);
    long n = positions.size();
    // rows through torch.embedding: differentiable in the table (hidden), no host round trip
    NDArray flat = hidden.reshape(-1, h);
    NDArray selected =
        flat.getNDArrayInternal()
            .embedding(positions, flat, SparseFormat.DENSE)
            .singletonOrThrow()
            .reshape(1, n, h);
    NDArray logits = model.head(selected); // (1, n, V) in the compute dtype
    // log_softmax with a float32 result reads fp16 logits directly (torch's half_to_float path):
    // no separate widening pass over the (n, V) logits and its backward
    NDArray logProbs =
        ai.djl.pytorch.jni.JniUtils.logSoftmax(
                (ai.djl.pytorch.engine.PtNDArray) logits, -1, DataType.FLOAT32)
            .reshape(n, -1);
    return logProbs.gather(labels, 1).sum().neg();
  }
}
