package io.loraflow.engine.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Builds NDArrays from bytes produced in Java, a band of rows at a time, through one reused scratch
 * buffer. DJL's CPU arrays alias the direct buffer they are created from, so each band is copied
 * into torch-owned memory (clone or dtype conversion) before the scratch buffer is reused: no
 * direct-memory churn, no 2 GiB buffer limit on a tensor (bands are concatenated), and no array
 * ever aliases a read-only memory map. Not thread-safe: one per weight source, used under its lock.
 */
final class TensorAssembler {

  /** Largest band, in bytes of the source layout. */
  static final int DEFAULT_BAND_BYTES = 64 << 20;

  private final int bandBytes;

  TensorAssembler() {
    this(DEFAULT_BAND_BYTES);
  }

  /** Tests use small bands to exercise the banded path on tiny tensors. */
  TensorAssembler(int bandBytes) {
    this.bandBytes = bandBytes;
  }

  /** Writes {@code rows} rows starting at {@code firstRow}, in the source layout, into dst. */
  interface RowWriter {
    void write(long firstRow, long rows, ByteBuffer dst);
  }

  private ByteBuffer scratch;

  /**
   * @param shape torch shape; bands split dimension 0
   * @param source dtype of the bytes the writer produces (FLOAT32, FLOAT16, INT64, ...)
   * @param target requested dtype, or null for {@code source}
   */
  NDArray assemble(
      Shape shape, DataType source, RowWriter writer, NDManager manager, DataType target) {
    DataType want = target == null ? source : target;
    if (want == DataType.BFLOAT16) {
      throw new IllegalArgumentException(
          "bfloat16 is not available in DJL's PyTorch engine; load as FLOAT16 or FLOAT32");
    }
    long rows = shape.dimension() == 0 ? 1 : shape.get(0);
    long rowElems = rows == 0 ? 0 : shape.size() / rows;
    long rowBytes = rowElems * source.getNumOfBytes();
    if (rows == 0 || rowBytes == 0) {
      return manager.create(shape, want);
    }
    if (rowBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("one row of " + shape + " exceeds 2 GiB");
    }
    long bandRows = Math.max(1, Math.min(rows, bandBytes / rowBytes));
    if (bandRows == rows) {
      return band(shape, 0, rows, source, writer, manager, want);
    }
    NDList bands = new NDList();
    try {
      for (long r = 0; r < rows; r += bandRows) {
        long n = Math.min(bandRows, rows - r);
        bands.add(band(shape, r, n, source, writer, manager, want));
      }
      return NDArrays.concat(bands, 0);
    } finally {
      bands.close();
    }
  }

  private NDArray band(
      Shape shape,
      long firstRow,
      long rows,
      DataType source,
      RowWriter writer,
      NDManager manager,
      DataType want) {
    long[] dims = shape.getShape().clone();
    if (dims.length > 0) {
      dims[0] = rows;
    }
    Shape bandShape = new Shape(dims);
    int bytes = Math.toIntExact(bandShape.size() * source.getNumOfBytes());
    if (scratch == null || scratch.capacity() < bytes) {
      scratch = ByteBuffer.allocateDirect(Math.max(bytes, 1 << 20)).order(ByteOrder.nativeOrder());
    }
    ByteBuffer buf = scratch.duplicate().order(ByteOrder.nativeOrder());
    buf.clear().limit(bytes);
    writer.write(firstRow, rows, buf);
    if (buf.position() != bytes) {
      throw new IllegalStateException("wrote " + buf.position() + " of " + bytes + " bytes");
    }
    buf.flip();
    NDArray created = manager.create(buf.slice().order(ByteOrder.nativeOrder()), bandShape, source);
    if (want == source && created.getDevice().isGpu()) {
      return created; // copied to the device already, nothing aliases the scratch buffer
    }
    try {
      return want != source ? created.toType(want, true) : created.duplicate();
    } finally {
      created.close();
    }
  }
}
