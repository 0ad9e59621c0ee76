package io.loraflow.engine.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.loraflow.engine.model.Casts;
import io.loraflow.engine.model.Linear;
import io.loraflow.engine.nativeops.FastOps;
import io.loraflow.engine.quant.Nf4Linear;

/**
 * PEFT's LoRA layer: {@code y = base(x) + B(A(dropout(x))) * scaling}. The frozen base is any
 * {@link Linear} (NF4 or dense). A (r, in) and B (out, r) are float32 master weights that require
 * gradients; each forward casts them to x's dtype, so the branch runs in the compute dtype and the
 * cast's backward returns float32 gradients.
 */
public final class LoraLinear implements Linear {

  private final String name;
  private final Linear base;
  private final NDArray loraA; // (r, in) float32, requires grad
  private final NDArray loraB; // (out, r) float32, requires grad
  private final float scaling;
  private final float dropout;
  private boolean training;

  LoraLinear(
      String name, Linear base, NDArray loraA, NDArray loraB, double scaling, double dropout) {
    this.name = name;
    this.base = base;
    this.loraA = loraA;
    this.loraB = loraB;
    this.scaling = (float) scaling;
    this.dropout = (float) dropout;
    loraA.setRequiresGradient(true);
    loraB.setRequiresGradient(true);
  }

  /** HF module path, e.g. "model.layers.0.self_attn.q_proj". */
  public String name() {
    return name;
  }

  public Linear base() {
    return base;
  }

  /** lora_A.weight, (r, in) float32. */
  public NDArray loraA() {
    return loraA;
  }

  /** lora_B.weight, (out, r) float32. */
  public NDArray loraB() {
    return loraB;
  }

  public float scaling() {
    return scaling;
  }

  /** The dropout probability in effect now: the configured one while training, else 0. */
  public double activeDropout() {
    return training && dropout > 0 ? dropout : 0;
  }

  /** Dropout is active only while training (the trainer seeds torch's RNG per block). */
  public void setTraining(boolean training) {
    this.training = training;
  }

  @Override
  public NDArray forward(NDArray x) {
    if (FastOps.activeFor(x) && base instanceof Nf4Linear nf4) {
      return fastForward(x, nf4);
    }
    NDArray y = base.forward(x);
    NDManager manager = x.getManager();
    try (NDManager scope = manager.newSubManager()) {
      loraA.tempAttach(scope);
      loraB.tempAttach(scope);
      NDArray input = x;
      if (training && dropout > 0) {
        input = x.getNDArrayInternal().dropout(x, dropout, true).singletonOrThrow();
        input.attach(scope);
      }
      // a differentiable cast: DJL's toType would cut A and B off the graph in fp16
      NDArray a = Casts.to(loraA, x.getDataType());
      NDArray b = Casts.to(loraB, x.getDataType());
      NDArray down = ai.djl.nn.core.Linear.linear(input, a, null).singletonOrThrow(); // (.., r)
      NDArray up = ai.djl.nn.core.Linear.linear(down, b, null).singletonOrThrow(); // (.., out)
      NDArray out = y.add(io.loraflow.engine.model.Scalars.mul(up, scaling));
      out.attach(manager);
      y.close();
      return out;
    }
  }

  /**
   * The same function on the GPU fast path: the NF4 weight in one kernel, then base + LoRA branch
   * in one native call (ATen records linear, dropout, the casts of A and B, and y + up * scaling).
   */
  private NDArray fastForward(NDArray x, Nf4Linear nf4) {
    NDManager manager = x.getManager();
    try (NDManager scope = manager.newSubManager()) {
      loraA.tempAttach(scope);
      loraB.tempAttach(scope);
      NDArray w = nf4.weightFor(x.getDataType(), scope); // (out, in)
      NDArray out =
          FastOps.loraLinear(
              x, w, nf4.biasIn(scope), loraA, loraB, scaling, dropout, training && dropout > 0);
      out.attach(manager);
      return out;
    }
  }

  @Override
  public int inFeatures() {
    return base.inFeatures();
  }

  @Override
  public int outFeatures() {
    return base.outFeatures();
  }

  @Override
  public void close() {
    base.close();
    loraA.close();
    loraB.close();
  }
}
