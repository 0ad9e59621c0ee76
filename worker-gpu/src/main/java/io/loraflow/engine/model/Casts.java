package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Float dtype casts that autograd sees through. DJL's {@code toType} detaches its result from the
 * graph (DJL 0.36 PyTorch engine), so an fp16 model that computes norms or softmax in fp32 with
 * {@code toType} gets no gradient below that point. Here: with autograd off (inference, the no-grad
 * pass of gradient checkpointing) the cast is toType (cheapest); while recording, widening uses
 * type promotion (x * ones(1) in the wider type) and narrowing uses cumprod over a size-1 axis with
 * an output dtype, both differentiable torch ops of elementwise cost. Hot paths should not need
 * either on big tensors: compute in the model dtype where torch accumulates in float32 anyway
 * (softmax, layer_norm, matmul).
 */
public final class Casts {

  private Casts() {}

  /** x as {@code dtype} (FLOAT16/FLOAT32/FLOAT64), keeping the autograd graph when x has one. */
  public static NDArray to(NDArray x, DataType dtype) {
    if (x.getDataType() == dtype) {
      return x;
    }
    if (!(x instanceof PtNDArray) || !JniUtils.isGradMode()) {
      return x.toType(dtype, false);
    }
    if (dtype.getNumOfBytes() > x.getDataType().getNumOfBytes()) {
      try (NDArray one = x.getManager().ones(new Shape(1), dtype, x.getDevice())) {
        return x.mul(one);
      }
    }
    // the size-1 axis goes first: torch scans a leading axis with one thread per element, while a
    // trailing size-1 axis runs its row-scan kernel once per element (tens of ms on a big tensor)
    return x.expandDims(0).cumProd(0, dtype).squeeze(0);
  }
}
