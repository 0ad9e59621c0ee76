package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;

/**
 * A linear map y = x W^T (+ b) inside the model. The model calls only this interface, so the
 * training side can swap in a frozen NF4 base with a LoRA branch without the model knowing.
 */
public interface Linear extends AutoCloseable {

  /** x: (..., inFeatures) in the compute dtype -> (..., outFeatures) in the same dtype. */
  NDArray forward(NDArray x);

  int inFeatures();

  int outFeatures();

  /** Frees the native memory this module owns. */
  @Override
  void close();
}
