package io.loraflow.engine.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.loraflow.engine.model.Linear;

/** A frozen full-precision linear y = x W^T + b (the base for fp16/fp32 LoRA, and the LM head). */
final class DenseFrozenLinear implements Linear {

  private final NDArray weight; // (out, in) in the compute dtype
  private final NDArray bias; // (out) or null

  DenseFrozenLinear(NDArray weight, NDArray bias) {
    this.weight = weight;
    this.bias = bias;
  }

  NDArray weight() {
    return weight;
  }

  @Override
  public NDArray forward(NDArray x) {
    NDManager manager = x.getManager();
    try (NDManager scope = manager.newSubManager()) {
      weight.tempAttach(scope);
      if (bias != null) {
        bias.tempAttach(scope);
      }
      NDArray y = ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
      y.attach(manager);
      return y;
    }
  }

  @Override
  public int inFeatures() {
    return Math.toIntExact(weight.getShape().get(1));
  }

  @Override
  public int outFeatures() {
    return Math.toIntExact(weight.getShape().get(0));
  }

  @Override
  public void close() {
    weight.close();
    if (bias != null) {
      bias.close();
    }
  }
}
