package io.loraflow.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import io.loraflow.engine.nativeops.FastOps;

/**
 * A weight stored as NF4 with (optionally) double-quantized absmax, laid out exactly like
 * bitsandbytes' {@code Params4bit} + {@code QuantState}: {@code packed} holds two 4-bit codes per
 * byte (first element in the high nibble), one absmax per block of 64 values; with double
 * quantization the absmax values minus their mean are stored as 8-bit codes of the dynamic map with
 * one float32 scale per 256 absmax values.
 *
 * <p>Storage per parameter: 0.5 byte of codes + 1/64 byte of absmax codes + 4/(64*256) byte of
 * second-level scales = 0.5157 bytes (4.127 bits, the QLoRA paper's figure); without double
 * quantization 0.5 + 4/64 = 0.5625 bytes (4.5 bits).
 */
public final class Nf4Tensor implements AutoCloseable {

  private static final java.util.concurrent.atomic.AtomicLong DEQUANTIZATIONS =
      new java.util.concurrent.atomic.AtomicLong();

  /** Full-weight dequantizations done by this JVM so far (for benchmarks). */
  public static long dequantizations() {
    return DEQUANTIZATIONS.get();
  }

  private final Shape shape;
  private final long numel;
  private final NDArray packed; // (blocks * 32) uint8
  private final NDArray absmax; // (blocks) float32, null when double-quantized
  private final NDArray absmaxCodes; // (paddedBlocks) uint8 codes of the signed dynamic map
  private final NDArray absmaxScales; // (paddedBlocks / 256) float32 second-level absmax
  private final float absmaxOffset; // mean of the first-level absmax, added back
  private final int blocks;
  private final NDArray pairTable; // (256, 2) float32: byte -> its two NF4 values
  private NDArray pairTableHalf; // the same in float16, made on the first float16 dequantization
  private NDArray dynamicColumn; // dynamicMap as (256, 1), made on first use
  private NDArray scalesColumn; // absmaxScales as (paddedBlocks / 256, 1), made on first use
  private NDArray decodedAbsmax; // (blocks, 1) float16, only while cacheDecodedAbsmax is on
  private final NDArray dynamicMap; // (256) float32, null when not double-quantized

  Nf4Tensor(
      Shape shape,
      long numel,
      NDArray packed,
      NDArray absmax,
      NDArray absmaxCodes,
      NDArray absmaxScales,
      float absmaxOffset,
      int blocks,
      NDArray pairTable,
      NDArray dynamicMap) {
    this.shape = shape;
    this.numel = numel;
    this.packed = packed;
    this.absmax = absmax;
    this.absmaxCodes = absmaxCodes;
    this.absmaxScales = absmaxScales;
    this.absmaxOffset = absmaxOffset;
    this.blocks = blocks;
    this.pairTable = pairTable;
    this.dynamicMap = dynamicMap;
  }

  /** Counts one full-weight dequantization done outside this class (the native block path). */
  public static void noteDequantization() {
    DEQUANTIZATIONS.incrementAndGet();
  }

  /**
   * The stored arrays in the order the native dequantization reads them: {packed, absmax or null,
   * absmax codes or null, absmax scales or null, the float32 pair table, the dynamic map or null}.
   */
  public NDArray[] parts() {
    return new NDArray[] {packed, absmax, absmaxCodes, absmaxScales, pairTable, dynamicMap};
  }

  /** Original shape of the weight, e.g. (out, in). */
  public Shape shape() {
    return shape;
  }

  public boolean doubleQuantized() {
    return absmax == null;
  }

  /** The packed codes, (ceil(numel / 64) * 32) uint8, for tests and export. */
  public NDArray packed() {
    return packed;
  }

  /** The 8-bit absmax codes (double quantization only), (blocks padded to 256) uint8. */
  public NDArray absmaxCodes() {
    return absmaxCodes;
  }

  /** The second-level float32 absmax of the absmax codes, one per 256 blocks. */
  public NDArray absmaxScales() {
    return absmaxScales;
  }

  /** Mean of the first-level absmax subtracted before the 8-bit quantization. */
  public float absmaxOffset() {
    return absmaxOffset;
  }

  /** Bytes of native storage this tensor holds (codes + scales), without the shared tables. */
  public long storageBytes() {
    long bytes = packed.size();
    if (absmax != null) {
      bytes += 4 * absmax.size();
    } else {
      bytes += absmaxCodes.size() + 4 * absmaxScales.size() + 4;
    }
    return bytes;
  }

  /** {@link #storageBytes()} per weight element. */
  public double bytesPerParameter() {
    return (double) storageBytes() / numel;
  }

  /**
   * The per-block float32 absmax (blocks): stored directly, or rebuilt as dynamicMap[code] *
   * scale[block / 256] + offset. The result lands in {@code manager}.
   */
  public NDArray absmax(NDManager manager) {
    try (NDManager scope = manager.newSubManager()) {
      NDArray result = absmaxColumn(scope).reshape(-1);
      if (absmax != null) {
        result = result.duplicate(); // a copy, not a view of the stored absmax
      }
      result.attach(manager);
      return result;
    }
  }

  /** The per-block float32 absmax as a (blocks, 1) column, in {@code scope}. */
  private NDArray absmaxColumn(NDManager scope) {
    if (absmax != null) {
      absmax.tempAttach(scope);
      return absmax.reshape(-1, 1);
    }
    if (dynamicColumn == null) {
      dynamicColumn = dynamicMap.reshape(256, 1); // views made once (each op is a JNI call)
      scalesColumn = absmaxScales.reshape(-1, 1);
    }
    absmaxCodes.tempAttach(scope);
    dynamicColumn.tempAttach(scope);
    scalesColumn.tempAttach(scope);
    NDArray column =
        lookup(absmaxCodes, dynamicColumn) // (paddedBlocks, 1)
            .reshape(-1, Nf4Quantizer.ABSMAX_BLOCK_SIZE)
            .mul(scalesColumn)
            .reshape(-1, 1)
            .get("0:" + blocks);
    // the offset as a device scalar: a host scalar would cost a GPU sync per dequantization
    return io.loraflow.engine.model.Scalars.add(column, absmaxOffset);
  }

  /**
   * The weight as {@code dtype} in its original shape, computed with DJL ops on the tensor's
   * device: packed bytes -> int32 -> (n/2, 2) NF4 values through the 256-row pair table -> times
   * the block absmax. For float32 (and any dtype but float16) the product is formed in float32 and
   * cast once, exactly as bitsandbytes' kernel does. For float16 the pair table and the absmax are
   * float16 and the product is rounded once from float32 arithmetic inside the kernel: within two
   * fp16 steps of the float32 route (table and absmax are rounded to fp16 first), at about half its
   * memory traffic (the cost of QLoRA is this dequantization, run twice per layer per step). Per
   * call: 1 cast + 1 gather + 1 multiply, plus 5 small ops on the blocks-long absmax when
   * double-quantized. The result lands in {@code manager}; nothing else is kept.
   */
  public NDArray dequantize(DataType dtype, NDManager manager) {
    DEQUANTIZATIONS.incrementAndGet();
    if ((dtype == DataType.FLOAT16 || dtype == DataType.FLOAT32) && FastOps.activeFor(packed)) {
      // one kernel instead of ~12 DJL ops (the fast path; the code below stays the reference)
      return FastOps.nf4Dequantize(
          packed,
          absmax,
          absmaxCodes,
          absmaxScales,
          absmaxOffset,
          pairTable,
          dynamicMap,
          shape,
          dtype,
          manager);
    }
    boolean half = dtype == DataType.FLOAT16;
    NDArray table = half ? halfPairTable() : pairTable; // before any tempAttach below
    try (NDManager scope = manager.newSubManager()) {
      NDArray blockAbsmax; // (blocks, 1)
      if (half && decodedAbsmax != null) {
        blockAbsmax = decodedAbsmax;
        blockAbsmax.tempAttach(scope);
      } else {
        blockAbsmax = absmaxColumn(scope); // float32
        if (half) {
          blockAbsmax = blockAbsmax.toType(DataType.FLOAT16, false);
        }
      }
      packed.tempAttach(scope);
      table.tempAttach(scope);
      NDArray values = lookup(packed, table); // (paddedNumel / 2, 2)
      NDArray w = values.reshape(blocks, Nf4Code.BLOCK_SIZE).mul(blockAbsmax); // (blocks, 64)
      if ((long) blocks * Nf4Code.BLOCK_SIZE != numel) {
        w = w.reshape(-1).get("0:" + numel);
      }
      NDArray out = w.reshape(shape).toType(dtype, false);
      out.attach(manager);
      return out;
    }
  }

  /**
   * Keep the decoded float16 block absmax, (blocks, 1), between float16 dequantizations: 2 bytes
   * per 64 weights (0.031 bytes per parameter, 6% over NF4 + double quantization) for ~9 fewer
   * small ops per dequantization, which is most of what a step costs the host at small batch. Off
   * (the default) frees it.
   */
  public synchronized void cacheDecodedAbsmax(boolean on) {
    if (on && decodedAbsmax == null) {
      try (NDManager scope = pairTable.getManager().newSubManager()) {
        NDArray half = absmaxColumn(scope).toType(DataType.FLOAT16, false);
        half.attach(pairTable.getManager());
        decodedAbsmax = half;
      }
    } else if (!on && decodedAbsmax != null) {
      decodedAbsmax.close();
      decodedAbsmax = null;
    }
  }

  /** Bytes held by {@link #cacheDecodedAbsmax} (0 when off). */
  public long cachedBytes() {
    return decodedAbsmax == null ? 0 : 2 * decodedAbsmax.size();
  }

  /** The pair table in float16, made once and kept beside the float32 one (same manager). */
  private synchronized NDArray halfPairTable() {
    if (pairTableHalf == null) {
      pairTableHalf = pairTable.toType(DataType.FLOAT16, true);
    }
    return pairTableHalf;
  }

  /** table[codes] for uint8 codes via torch.embedding: (n) uint8 -> (n, columns). */
  private static NDArray lookup(NDArray codes, NDArray table) {
    NDArray index = codes.toType(DataType.INT32, false);
    return index
        .getNDArrayInternal()
        .embedding(index, table, SparseFormat.DENSE)
        .singletonOrThrow();
  }

  @Override
  public void close() {
    for (NDArray a :
        new NDArray[] {
          packed,
          absmax,
          absmaxCodes,
          absmaxScales,
          pairTable,
          pairTableHalf,
          dynamicMap,
          dynamicColumn,
          scalesColumn,
          decodedAbsmax
        }) {
      if (a != null) {
        a.close();
      }
    }
  }
}
