package io.loraflow.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * NF4 blockwise quantization as bitsandbytes defines it in its reference (pure torch) kernel {@code
 * quantize_4bit}: per block of 64 values absmax = max|x|, scaled = clamp(x * (1 / absmax), -1, 1)
 * in float32, code = argmin_i |scaled - nf4[i]| (first index on ties), two codes per byte with the
 * first in the high nibble. The CUDA kernel's decision tree agrees except exactly on a midpoint.
 *
 * <p>Double quantization ({@code compress_statistics=True}): offset = mean(absmax); the centered
 * absmax values are quantized blockwise (block 256) to bitsandbytes' signed dynamic 8-bit map
 * ({@link DynamicMap8}), again by nearest value. We use the dynamic map rather than a linear int8
 * map because it is what bitsandbytes (and so every QLoRA checkpoint) uses, and because centered
 * absmax values cluster near zero where the dynamic map is dense.
 *
 * <p>All work runs with DJL ops on the weight's device, so a GPU-resident weight is quantized on
 * the GPU; the nearest-code search runs in row chunks to bound the temporary (n, 16) array.
 */
public final class Nf4Quantizer {

  /** Absmax values per second-level block (bitsandbytes: blocksize=256 for the nested state). */
  public static final int ABSMAX_BLOCK_SIZE = 256;

  /** Elements per nearest-code chunk: 2^20 x 16 codes x 4 bytes = 64 MiB of temporaries. */
  private static final long CHUNK = 1L << 20;

  private final boolean doubleQuant;

  /**
   * @param doubleQuant quantize the absmax values too (QLoRA's bnb_4bit_use_double_quant)
   */
  public Nf4Quantizer(boolean doubleQuant) {
    this.doubleQuant = doubleQuant;
  }

  /**
   * Quantizes {@code weight} (any shape, float16/float32) into arrays owned by {@code owner}. The
   * weight itself is not closed.
   */
  public Nf4Tensor quantize(NDArray weight, NDManager owner) {
    Shape shape = weight.getShape();
    long numel = shape.size();
    if (numel == 0) {
      throw new IllegalArgumentException("cannot NF4-quantize an empty tensor of shape " + shape);
    }
    int blocks = Math.toIntExact((numel + Nf4Code.BLOCK_SIZE - 1) / Nf4Code.BLOCK_SIZE);
    try (NDManager scope = owner.newSubManager(weight.getDevice())) {
      // the float32 copy must join the scope itself, not just its reshaped view: left in the
      // weight's manager it would outlive the call (4 bytes per parameter kept for good)
      NDArray wide = weight.toType(DataType.FLOAT32, true);
      wide.attach(scope);
      NDArray flat = wide.reshape(-1);
      flat = padTo(flat, (long) blocks * Nf4Code.BLOCK_SIZE);
      NDArray values = flat.reshape(blocks, Nf4Code.BLOCK_SIZE);
      NDArray absmax = values.abs().max(new int[] {1}); // (blocks) float32
      NDArray codeTable = scope.create(Nf4Code.values());
      NDArray codes = nearestCodes(scale(values, absmax), codeTable).reshape(-1, 2); // uint8
      NDArray packed = codes.get(":, 0").mul(16).add(codes.get(":, 1")); // (blocks * 32) uint8
      NDArray pairTable = scope.create(Nf4Code.pairTable(), new Shape(256, 2));
      if (!doubleQuant) {
        NDArray[] kept = persist(owner, scope, packed, absmax, pairTable);
        return new Nf4Tensor(shape, numel, kept[0], kept[1], null, null, 0f, blocks, kept[2], null);
      }
      float offset = absmax.mean().getFloat();
      int blocks2 = (blocks + ABSMAX_BLOCK_SIZE - 1) / ABSMAX_BLOCK_SIZE;
      NDArray centered =
          padTo(absmax.sub(offset), (long) blocks2 * ABSMAX_BLOCK_SIZE)
              .reshape(blocks2, ABSMAX_BLOCK_SIZE);
      NDArray absmax2 = centered.abs().max(new int[] {1}); // (blocks2) float32
      NDArray map = scope.create(DynamicMap8.signed());
      NDArray absmaxCodes = nearestCodes(scale(centered, absmax2), map);
      NDArray[] kept = persist(owner, scope, packed, absmaxCodes, absmax2, pairTable, map);
      return new Nf4Tensor(
          shape, numel, kept[0], null, kept[1], kept[2], offset, blocks, kept[3], kept[4]);
    }
  }

  /**
   * Moves the arrays that outlive {@code scope} to {@code owner}. On a GPU they are re-created
   * after the scope's temporaries are freed and PyTorch's cache is emptied: otherwise each small
   * long-lived array is carved out of a large cached block of temporaries, which then can never be
   * released (for Falcon-7B that pinned ~27 GB).
   */
  private static NDArray[] persist(NDManager owner, NDManager scope, NDArray... arrays) {
    NDArray[] out = new NDArray[arrays.length];
    if (!arrays[0].getDevice().isGpu()) {
      for (int i = 0; i < arrays.length; i++) {
        out[i] = arrays[i];
        out[i].attach(owner);
      }
      return out;
    }
    byte[][] host = new byte[arrays.length][];
    Shape[] shapes = new Shape[arrays.length];
    DataType[] types = new DataType[arrays.length];
    for (int i = 0; i < arrays.length; i++) {
      host[i] = arrays[i].toByteArray();
      shapes[i] = arrays[i].getShape();
      types[i] = arrays[i].getDataType();
    }
    ai.djl.Device device = arrays[0].getDevice();
    scope.close();
    ai.djl.pytorch.jni.JniUtils.emptyCudaCache();
    for (int i = 0; i < arrays.length; i++) {
      java.nio.ByteBuffer buf =
          java.nio.ByteBuffer.allocateDirect(host[i].length)
              .order(java.nio.ByteOrder.nativeOrder());
      buf.put(host[i]).flip();
      out[i] = owner.create(buf, shapes[i], types[i]).toDevice(device, false);
      out[i].attach(owner);
    }
    return out;
  }

  /** clamp(x * (1 / absmax), -1, 1) per row; an all-zero row stays zero (code of 0.0). */
  private static NDArray scale(NDArray rows, NDArray absmax) {
    NDArray safe = NDArrays.where(absmax.eq(0), absmax.onesLike(), absmax);
    NDArray inverse = safe.onesLike().div(safe);
    return rows.mul(inverse.reshape(-1, 1)).clip(-1, 1);
  }

  /**
   * argmin_i |x - table[i]| for every element, in chunks: (rows, cols) -> (rows * cols) uint8. Each
   * chunk's int64 argmin is narrowed at once, so a 235M-element weight needs 235 MB of codes, not
   * 1.9 GB.
   */
  private static NDArray nearestCodes(NDArray x, NDArray table) {
    NDArray flat = x.reshape(-1);
    long n = flat.size();
    long chunk = Math.max(1, CHUNK * 16 / table.size());
    NDArray column = table.reshape(1, -1);
    if (n <= chunk) {
      return flat.reshape(-1, 1).sub(column).abs().argMin(1).toType(DataType.UINT8, false);
    }
    NDArray[] parts = new NDArray[Math.toIntExact((n + chunk - 1) / chunk)];
    for (int i = 0; i < parts.length; i++) {
      long from = i * chunk;
      long to = Math.min(n, from + chunk);
      try (NDManager chunkScope = flat.getManager().newSubManager()) {
        flat.tempAttach(chunkScope);
        column.tempAttach(chunkScope);
        NDArray codes =
            flat.get(from + ":" + to)
                .reshape(-1, 1)
                .sub(column)
                .abs()
                .argMin(1)
                .toType(DataType.UINT8, false);
        parts[i] = codes;
        codes.attach(x.getManager());
      }
    }
    return NDArrays.concat(new ai.djl.ndarray.NDList(parts));
  }

  private static NDArray padTo(NDArray flat, long length) {
    long missing = length - flat.size();
    if (missing == 0) {
      return flat;
    }
    NDArray zeros = flat.getManager().zeros(new Shape(missing), flat.getDataType());
    return flat.concat(zeros);
  }
}
