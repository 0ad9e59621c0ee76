package io.loraflow.engine.nativeops;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import io.loraflow.engine.lora.LoraLinear;
import io.loraflow.engine.model.Linear;
import io.loraflow.engine.quant.Nf4Linear;
import io.loraflow.engine.quant.Nf4Tensor;
import java.util.List;

/**
 * One linear module of a block as the native block functions read it: the NF4 weight's arrays,
 * bias, and the LoRA A/B with scaling; dropout is read at each call (it depends on the module's
 * training flag). Only NF4 bases qualify (the QLoRA case); {@link #of} returns null otherwise and
 * the block runs its Java path.
 */
public final class NativeLinear {

  private final long[] handles; // packed, absmax, codes, scales, pairTable, dynamicMap, bias, A, B
  private final float offset;
  private final long out;
  private final long in;
  private final LoraLinear lora; // null for a frozen linear alone

  private NativeLinear(long[] handles, float offset, long out, long in, LoraLinear lora) {
    this.handles = handles;
    this.offset = offset;
    this.out = out;
    this.in = in;
    this.lora = lora;
  }

  /** The descriptor of {@code linear}, or null when it is not an NF4 (LoRA) linear. */
  public static NativeLinear of(Linear linear) {
    LoraLinear lora = linear instanceof LoraLinear l ? l : null;
    Linear base = lora != null ? lora.base() : linear;
    if (!(base instanceof Nf4Linear nf4) || nf4.keepsDequantized()) {
      return null;
    }
    Nf4Tensor w = nf4.weight();
    NDArray[] p = w.parts();
    long[] h = new long[9];
    for (int i = 0; i < p.length; i++) {
      h[i] = handle(p[i]);
    }
    h[6] = handle(nf4.bias());
    if (lora != null) {
      h[7] = handle(lora.loraA());
      h[8] = handle(lora.loraB());
    }
    return new NativeLinear(h, w.absmaxOffset(), w.shape().get(0), w.shape().get(1), lora);
  }

  /** Descriptors of all {@code linears}, or null when any of them does not qualify. */
  public static NativeLinear[] allOf(List<Linear> linears) {
    NativeLinear[] out = new NativeLinear[linears.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = of(linears.get(i));
      if (out[i] == null) {
        return null;
      }
    }
    return out;
  }

  /** The arrays the native side reads, in order: handles (9 each), offsets, shapes, lora. */
  static Packed pack(NativeLinear[] linears) {
    int n = linears.length;
    long[] h = new long[9 * n];
    float[] off = new float[n];
    long[] shapes = new long[2 * n];
    double[] lora = new double[2 * n];
    for (int i = 0; i < n; i++) {
      NativeLinear l = linears[i];
      System.arraycopy(l.handles, 0, h, 9 * i, 9);
      off[i] = l.offset;
      shapes[2 * i] = l.out;
      shapes[2 * i + 1] = l.in;
      lora[2 * i] = l.lora == null ? 0 : l.lora.scaling();
      lora[2 * i + 1] = l.lora == null ? 0 : l.lora.activeDropout();
      Nf4Tensor.noteDequantization(); // the native block dequantizes each weight once per call
    }
    return new Packed(h, off, shapes, lora);
  }

  record Packed(long[] handles, float[] offsets, long[] shapes, double[] lora) {}

  private static long handle(NDArray a) {
    return a == null ? 0 : ((PtNDArray) a).getHandle();
  }
}
