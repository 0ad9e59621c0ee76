package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.nativeops.FastOps;

/** A normalization over the last axis with its own (frozen) parameters. */
public interface Norm {

  /** x (..., H) -> (..., H) in the dtype of x. */
  NDArray apply(NDArray x);

  /**
   * Llama RMSNorm exactly as HF computes it: in fp32, then cast back, then scaled.
   *
   * @param weight (H) in the compute dtype
   */
  static Norm rms(NDArray weight, double eps) {
    return x -> {
      if (FastOps.activeFor(x)) {
        return FastOps.rmsNorm(x, weight, eps); // same ops in one native call (no cast tricks)
      }
      NDArray x32 = Casts.to(x, DataType.FLOAT32);
      NDArray variance = x32.square().mean(new int[] {-1}, true);
      NDArray normed = x32.div(Scalars.add(variance, eps).sqrt());
      // activation first: DJL puts a result in the manager of its first operand (the step's)
      return Casts.to(normed, x.getDataType()).mul(weight);
    };
  }

  /**
   * LayerNorm with bias through {@code torch.layer_norm} (fp16 inputs accumulate in fp32 inside).
   *
   * @param weight (H), bias (H), both in the compute dtype
   */
  static Norm layer(NDArray weight, NDArray bias, double eps) {
    return x ->
        x.getNDArrayInternal()
            .layerNorm(x, weight.getShape(), weight, bias, (float) eps)
            .singletonOrThrow();
  }
}
