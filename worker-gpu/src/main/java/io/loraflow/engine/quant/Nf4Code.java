package io.loraflow.engine.quant;

/**
 * The 16 values of the 4-bit NormalFloat data type (QLoRA paper, Appendix E; bitsandbytes {@code
 * get_4bit_type("nf4")}): quantiles of N(0, 1) normalized to [-1, 1], with an exact zero at index
 * 7. Index i is the 4-bit code; the table is sorted ascending.
 */
public final class Nf4Code {

  /** Values per quantization block of the weight (bitsandbytes default blocksize=64). */
  public static final int BLOCK_SIZE = 64;

  /** Index of the exact zero (an all-zero block quantizes to this code). */
  public static final int ZERO_CODE = 7;

  private static final float[] VALUES = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f
  };

  private Nf4Code() {}

  /** The 16 code values, ascending (a copy). */
  public static float[] values() {
    return VALUES.clone();
  }

  /**
   * The 256x2 table that turns one packed byte into its two values: row b is {code[b >> 4], code[b
   * & 15]}. bitsandbytes packs the first element of each pair into the high nibble.
   */
  public static float[] pairTable() {
    float[] table = new float[256 * 2];
    for (int b = 0; b < 256; b++) {
      table[2 * b] = VALUES[b >> 4];
      table[2 * b + 1] = VALUES[b & 15];
    }
    return table;
  }
}
