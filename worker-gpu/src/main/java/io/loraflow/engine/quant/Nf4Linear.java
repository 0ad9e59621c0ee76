package io.loraflow.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.model.Linear;

/**
 * A frozen linear layer whose weight lives in NF4: y = x W^T + b with W dequantized to x's dtype
 * inside every forward call and dropped afterwards (bitsandbytes' Linear4bit). Nothing here
 * requires a gradient; gradients flow through to x only.
 *
 * <p>Memory: when autograd records the matmul it keeps the dequantized W for the backward pass. The
 * trainer's gradient checkpointing runs the recorded forward one block at a time during backward,
 * so at most one block's dequantized weights exist at once and they are rebuilt (not kept) between
 * the no-grad forward and the backward - the same lifetime as bitsandbytes' MatMul4Bit, which
 * dequantizes again in its backward.
 */
public final class Nf4Linear implements Linear {

  private final Nf4Tensor weight; // (out, in)
  private final NDArray bias; // (out) in the compute dtype, or null
  private final int inFeatures;
  private final int outFeatures;
  private boolean keepDequantized;
  private NDArray dequantized; // (out, in) in the last compute dtype, only while keepDequantized

  public Nf4Linear(Nf4Tensor weight, NDArray bias) {
    if (weight.shape().dimension() != 2) {
      throw new IllegalArgumentException(
          "Nf4Linear needs a 2-d (out, in) weight, got " + weight.shape());
    }
    this.weight = weight;
    this.bias = bias;
    this.outFeatures = Math.toIntExact(weight.shape().get(0));
    this.inFeatures = Math.toIntExact(weight.shape().get(1));
  }

  public Nf4Tensor weight() {
    return weight;
  }

  /**
   * Keep the dequantized weight between calls (4x the NF4 memory in fp16) instead of rebuilding it
   * per call: for generation or small models on CPU where memory is not the constraint. Off frees
   * it.
   */
  public void keepDequantized(boolean on) {
    keepDequantized = on;
    if (!on && dequantized != null) {
      dequantized.close();
      dequantized = null;
    }
  }

  @Override
  public NDArray forward(NDArray x) {
    NDManager manager = x.getManager();
    try (NDManager scope = manager.newSubManager()) {
      NDArray w = weightFor(x.getDataType(), scope);
      NDArray b = biasIn(scope);
      NDArray y = ai.djl.nn.core.Linear.linear(x, w, b).singletonOrThrow();
      y.attach(manager);
      return y;
    }
  }

  /**
   * The weight (out, in) in {@code dtype} for one call, valid while {@code scope} is open: the kept
   * copy with {@link #keepDequantized}, else a fresh dequantization into {@code scope}.
   */
  public NDArray weightFor(DataType dtype, NDManager scope) {
    if (keepDequantized) {
      if (dequantized == null || dequantized.getDataType() != dtype) {
        keepDequantized(false);
        keepDequantized = true;
        dequantized = weight.dequantize(dtype, weight.packed().getManager());
      }
      dequantized.tempAttach(scope);
      return dequantized;
    }
    return weight.dequantize(dtype, scope);
  }

  /** The bias (out) in the compute dtype, or null. */
  public NDArray bias() {
    return bias;
  }

  /** Whether the dequantized weight is kept between calls ({@link #keepDequantized}). */
  public boolean keepsDequantized() {
    return keepDequantized;
  }

  /** The bias (out) borrowed into {@code scope}, or null. */
  public NDArray biasIn(NDManager scope) {
    if (bias != null) {
      bias.tempAttach(scope);
    }
    return bias;
  }

  @Override
  public int inFeatures() {
    return inFeatures;
  }

  @Override
  public int outFeatures() {
    return outFeatures;
  }

  @Override
  public void close() {
    keepDequantized(false);
    weight.close();
    if (bias != null) {
      bias.close();
    }
  }
}
