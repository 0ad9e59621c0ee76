package io.loraflow.engine.io;

/**
 * ggml tensor types as numbered in ggml.h: elements per block and bytes per block. Types we cannot
 * dequantize still carry their sizes so a file's layout can be validated and the error can name
 * them.
 */
public enum GgmlType {
  F32(0, 1, 4, true),
  F16(1, 1, 2, true),
  Q4_0(2, 32, 18, true),
  Q4_1(3, 32, 20, true),
  Q5_0(6, 32, 22, false),
  Q5_1(7, 32, 24, false),
  Q8_0(8, 32, 34, true),
  Q8_1(9, 32, 36, false),
  Q2_K(10, 256, 84, false),
  Q3_K(11, 256, 110, false),
  Q4_K(12, 256, 144, true),
  Q5_K(13, 256, 176, false),
  Q6_K(14, 256, 210, true),
  Q8_K(15, 256, 292, false),
  I8(24, 1, 1, false),
  I16(25, 1, 2, false),
  I32(26, 1, 4, false),
  I64(27, 1, 8, false),
  F64(28, 1, 8, false),
  BF16(30, 1, 2, true);

  /** ggml's type id. */
  public final int id;

  /** Elements per block. */
  public final int blockSize;

  /** Bytes per block. */
  public final int typeSize;

  /** Whether {@link GgufDequant} can turn it into floats. */
  public final boolean supported;

  GgmlType(int id, int blockSize, int typeSize, boolean supported) {
    this.id = id;
    this.blockSize = blockSize;
    this.typeSize = typeSize;
    this.supported = supported;
  }

  /** The type with ggml id {@code id}, or null when we do not know it (IQ* and newer types). */
  public static GgmlType byId(int id) {
    for (GgmlType t : values()) {
      if (t.id == id) {
        return t;
      }
    }
    return null;
  }

  /** Bytes that {@code elements} values (a whole number of blocks) occupy. */
  public long bytes(long elements) {
    return elements / blockSize * typeSize;
  }
}
