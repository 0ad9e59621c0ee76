package io.loraflow.engine.io;

/**
 * IEEE 754 binary16 and bfloat16 bit conversions (Java 17 has neither; DJL's PyTorch engine has no
 * bfloat16, so bf16 checkpoints are widened here).
 */
final class Half {

  private Half() {}

  /** binary16 bits (low 16 bits of {@code h}) to float, exact (every half is a float). */
  static float toFloat(int h) {
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) { // inf / nan
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      // subnormal half: mant * 2^-24
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** bfloat16 bits (low 16 bits of {@code b}) to float, exact: bf16 is the high half of a float. */
  static float bf16ToFloat(int b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }
}
