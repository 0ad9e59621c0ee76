package io.loraflow.engine.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * ggml block formats to fp32, following ggml's reference {@code dequantize_row_*} (ggml-quants.c)
 * operation for operation, so results match llama.cpp and the Python {@code gguf} package.
 */
final class GgufDequant {

  private GgufDequant() {}

  /**
   * Dequantizes {@code count} elements from {@code src} (little-endian blocks, position 0) into
   * {@code dst} (floats, appended at its position).
   */
  static void dequantize(GgmlType type, ByteBuffer src, long count, ByteBuffer dst) {
    src = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    long blocks = count / type.blockSize;
    switch (type) {
      case F32 -> {
        if (dst.order() == ByteOrder.LITTLE_ENDIAN) {
          dst.put(src.limit(src.position() + Math.toIntExact(count * 4)));
        } else {
          for (long i = 0; i < count; i++) {
            dst.putFloat(src.getFloat());
          }
        }
      }
      case F16 -> {
        for (long i = 0; i < count; i++) {
          dst.putFloat(Half.toFloat(src.getShort()));
        }
      }
      case BF16 -> {
        for (long i = 0; i < count; i++) {
          dst.putFloat(Half.bf16ToFloat(src.getShort()));
        }
      }
      case Q4_0 -> q40(src, blocks, dst);
      case Q4_1 -> q41(src, blocks, dst);
      case Q8_0 -> q80(src, blocks, dst);
      case Q4_K -> q4k(src, blocks, dst);
      case Q6_K -> q6k(src, blocks, dst);
      default -> throw new IllegalArgumentException("no dequantization for ggml type " + type);
    }
  }

  /** block_q4_0 {fp16 d; u8 qs[16]}: x = (nibble - 8) * d; low nibbles first half, high second. */
  private static void q40(ByteBuffer src, long blocks, ByteBuffer dst) {
    float[] y = new float[32];
    byte[] qs = new byte[16];
    for (long i = 0; i < blocks; i++) {
      float d = Half.toFloat(src.getShort());
      src.get(qs);
      for (int j = 0; j < 16; j++) {
        int q = qs[j] & 0xff;
        y[j] = ((q & 0x0f) - 8) * d;
        y[j + 16] = ((q >>> 4) - 8) * d;
      }
      put(dst, y);
    }
  }

  /** block_q4_1 {fp16 d; fp16 m; u8 qs[16]}: x = nibble * d + m. */
  private static void q41(ByteBuffer src, long blocks, ByteBuffer dst) {
    float[] y = new float[32];
    byte[] qs = new byte[16];
    for (long i = 0; i < blocks; i++) {
      float d = Half.toFloat(src.getShort());
      float m = Half.toFloat(src.getShort());
      src.get(qs);
      for (int j = 0; j < 16; j++) {
        int q = qs[j] & 0xff;
        y[j] = (q & 0x0f) * d + m;
        y[j + 16] = (q >>> 4) * d + m;
      }
      put(dst, y);
    }
  }

  /** block_q8_0 {fp16 d; i8 qs[32]}: x = q * d. */
  private static void q80(ByteBuffer src, long blocks, ByteBuffer dst) {
    float[] y = new float[32];
    byte[] qs = new byte[32];
    for (long i = 0; i < blocks; i++) {
      float d = Half.toFloat(src.getShort());
      src.get(qs);
      for (int j = 0; j < 32; j++) {
        y[j] = qs[j] * d;
      }
      put(dst, y);
    }
  }

  /**
   * block_q4_K {fp16 d; fp16 dmin; u8 scales[12]; u8 qs[128]} over 256 values: 8 sub-blocks of 32
   * with 6-bit scale and min each; x = d * sc * nibble - dmin * m.
   */
  private static void q4k(ByteBuffer src, long blocks, ByteBuffer dst) {
    byte[] scales = new byte[12];
    byte[] qs = new byte[128];
    float[] y = new float[256];
    int[] scMin = new int[2];
    for (long i = 0; i < blocks; i++) {
      float d = Half.toFloat(src.getShort());
      float min = Half.toFloat(src.getShort());
      src.get(scales);
      src.get(qs);
      int out = 0;
      int q = 0;
      for (int is = 0; is < 8; is += 2) {
        scaleMinK4(is, scales, scMin);
        float d1 = d * scMin[0];
        float m1 = min * scMin[1];
        scaleMinK4(is + 1, scales, scMin);
        float d2 = d * scMin[0];
        float m2 = min * scMin[1];
        for (int l = 0; l < 32; l++) {
          y[out++] = d1 * (qs[q + l] & 0x0f) - m1;
        }
        for (int l = 0; l < 32; l++) {
          y[out++] = d2 * ((qs[q + l] & 0xff) >>> 4) - m2;
        }
        q += 32;
      }
      put(dst, y);
    }
  }

  /** ggml's get_scale_min_k4: the j-th 6-bit (scale, min) pair packed in 12 bytes. */
  private static void scaleMinK4(int j, byte[] q, int[] out) {
    if (j < 4) {
      out[0] = q[j] & 63;
      out[1] = q[j + 4] & 63;
    } else {
      out[0] = (q[j + 4] & 0x0f) | (((q[j - 4] & 0xff) >>> 6) << 4);
      out[1] = ((q[j + 4] & 0xff) >>> 4) | (((q[j] & 0xff) >>> 6) << 4);
    }
  }

  /**
   * block_q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; fp16 d} over 256 values: 6-bit quants (4 low
   * bits in ql, 2 high bits in qh) minus 32, times d * scale of each 16 values.
   */
  private static void q6k(ByteBuffer src, long blocks, ByteBuffer dst) {
    byte[] ql = new byte[128];
    byte[] qh = new byte[64];
    byte[] sc = new byte[16];
    float[] y = new float[256];
    for (long i = 0; i < blocks; i++) {
      src.get(ql);
      src.get(qh);
      src.get(sc);
      float d = Half.toFloat(src.getShort());
      for (int n = 0; n < 2; n++) {
        int yo = n * 128;
        int lo = n * 64;
        int ho = n * 32;
        int so = n * 8;
        for (int l = 0; l < 32; l++) {
          int is = l / 16;
          int h = qh[ho + l] & 0xff;
          int q1 = ((ql[lo + l] & 0x0f) | (((h >>> 0) & 3) << 4)) - 32;
          int q2 = ((ql[lo + l + 32] & 0x0f) | (((h >>> 2) & 3) << 4)) - 32;
          int q3 = (((ql[lo + l] & 0xff) >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
          int q4 = (((ql[lo + l + 32] & 0xff) >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
          y[yo + l] = d * sc[so + is] * q1;
          y[yo + l + 32] = d * sc[so + is + 2] * q2;
          y[yo + l + 64] = d * sc[so + is + 4] * q3;
          y[yo + l + 96] = d * sc[so + is + 6] * q4;
        }
      }
      put(dst, y);
    }
  }

  /** Bulk-appends floats (a FloatBuffer view is much faster than putFloat per value). */
  private static void put(ByteBuffer dst, float[] y) {
    dst.asFloatBuffer().put(y);
    dst.position(dst.position() + y.length * 4);
  }
}
