package io.loraflow.engine.io;

import ai.djl.ndarray.types.DataType;

/**
 * The safetensors dtypes we read and write. {@code rank} is the position in the Rust crate's Dtype
 * enum, which orders tensors in a written file (descending rank, then name) — kept so our files are
 * byte-identical to the Python library's.
 */
enum SafetensorsDtype {
  BOOL(1, 0, DataType.BOOLEAN),
  U8(1, 1, DataType.UINT8),
  I8(1, 2, DataType.INT8),
  F16(2, 11, DataType.FLOAT16),
  BF16(2, 12, DataType.BFLOAT16),
  I32(4, 13, DataType.INT32),
  F32(4, 15, DataType.FLOAT32),
  F64(8, 16, DataType.FLOAT64),
  I64(8, 17, DataType.INT64);

  final int bytes;
  final int rank;
  final DataType djl;

  SafetensorsDtype(int bytes, int rank, DataType djl) {
    this.bytes = bytes;
    this.rank = rank;
    this.djl = djl;
  }

  /** The dtype named in a header, or null when we do not support it (e.g. F8_E4M3, U16). */
  static SafetensorsDtype byName(String name) {
    for (SafetensorsDtype d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    return null;
  }

  static SafetensorsDtype of(DataType type) {
    for (SafetensorsDtype d : values()) {
      if (d.djl == type) {
        return d;
      }
    }
    throw new IllegalArgumentException(
        "cannot write DJL dtype "
            + type
            + " to safetensors (supported: F32 F16 F64 I64 I32 I8 U8 BOOL)");
  }
}
