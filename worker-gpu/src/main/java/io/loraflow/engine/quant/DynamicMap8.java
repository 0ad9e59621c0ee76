package io.loraflow.engine.quant;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * bitsandbytes' dynamic 8-bit data type ({@code functional.create_dynamic_map}, from Dettmers 2015
 * "8-Bit Approximations for Parallelism in Deep Learning"): a sign, a run of zeros that acts as the
 * exponent (10^-6 .. 10^0) and linear fraction bits in what is left. 256 sorted values in [-1, 1]
 * (signed) or [0, 1] (unsigned), dense near zero, so small and large magnitudes in one block both
 * keep ~2 significant digits.
 *
 * <p>Used for the double quantization of NF4 absmax values (signed) and for the 8-bit AdamW moments
 * (signed for the first moment, unsigned for the second), as bitsandbytes does.
 */
public final class DynamicMap8 {

  private static final float[] SIGNED = create(true);
  private static final float[] UNSIGNED = create(false);

  private DynamicMap8() {}

  /** 256 ascending values in [-1, 1] (a copy). */
  public static float[] signed() {
    return SIGNED.clone();
  }

  /** 256 ascending values in [0, 1] (a copy). */
  public static float[] unsigned() {
    return UNSIGNED.clone();
  }

  /**
   * create_dynamic_map(signed, max_exponent_bits=7, total_bits=8) with torch's float32 arithmetic:
   * linspace(0.1, 1, n) and the pair means are float32, scaled by the power of ten in float32 (a
   * Python float times a float32 tensor stays float32).
   */
  private static float[] create(boolean signed) {
    final int maxExponentBits = 7;
    final int totalBits = 8;
    int nonSignBits = totalBits - 1;
    int additionalItems = (1 << (nonSignBits - maxExponentBits)) - 1;
    if (!signed) {
      additionalItems = 2 * additionalItems;
    }
    List<Float> data = new ArrayList<>();
    for (int i = 0; i < maxExponentBits; i++) {
      int fractionItems =
          signed
              ? (1 << (i + nonSignBits - maxExponentBits)) + 1
              : (1 << (i + nonSignBits - maxExponentBits + 1)) + 1;
      float[] means = linspaceMeans(fractionItems);
      float scale = (float) Math.pow(10, -(maxExponentBits - 1) + i);
      for (float m : means) {
        data.add(scale * m);
      }
      if (signed) {
        for (float m : means) {
          data.add(-scale * m);
        }
      }
    }
    if (additionalItems > 0) {
      float[] means = linspaceMeans(additionalItems + 1);
      float scale = 1.0f;
      for (float m : means) {
        data.add(scale * m);
        if (signed) {
          data.add(-scale * m);
        }
      }
    }
    data.add(0f);
    data.add(1.0f);
    while (data.size() < 256) {
      data.add(0f);
    }
    if (data.size() != 256) {
      throw new IllegalStateException("dynamic map has " + data.size() + " entries, expected 256");
    }
    Collections.sort(data);
    float[] out = new float[256];
    for (int i = 0; i < 256; i++) {
      out[i] = data.get(i);
    }
    return out;
  }

  /** (b[:-1] + b[1:]) / 2 for b = torch.linspace(0.1, 1, n) in float32. */
  private static float[] linspaceMeans(int n) {
    float[] b = new float[n];
    float start = 0.1f;
    float end = 1.0f;
    float step = (end - start) / (n - 1);
    // torch's CPU linspace: the first half from start, the second half back from end, each as one
    // fused multiply-add rounded once to float32 (the product of a float and a small int is exact
    // in double)
    int half = n / 2;
    for (int i = 0; i < n; i++) {
      b[i] =
          i < half
              ? (float) (start + (double) step * i)
              : (float) (end - (double) step * (n - 1 - i));
    }
    float[] means = new float[n - 1];
    for (int i = 0; i < n - 1; i++) {
      means[i] = (b[i] + b[i + 1]) / 2.0f;
    }
    return means;
  }
}
