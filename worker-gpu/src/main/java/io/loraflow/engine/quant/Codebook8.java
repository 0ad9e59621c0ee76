package io.loraflow.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Nearest-value search in a sorted 256-entry code (the dynamic 8-bit maps) without an (n, 256)
 * temporary: the index of x is the number of midpoints below it, counted in two levels - 15 coarse
 * midpoints pick a segment of 16 codes, then that segment's 15 midpoints refine it. Two (n, 15)
 * comparisons instead of one (n, 256). Ties at a midpoint go to the lower code.
 */
public final class Codebook8 implements AutoCloseable {

  private final NDArray values; // (256) float32, ascending
  private final NDArray coarse; // (1, 15) midpoints between codes 16k-1 and 16k, k = 1..15
  private final NDArray fine; // (16, 15) midpoints inside each segment of 16 codes
  private final NDArray mids; // (255) all midpoints, ascending (the fused kernel's search table)

  public Codebook8(float[] sorted, NDManager manager) {
    if (sorted.length != 256) {
      throw new IllegalArgumentException("an 8-bit code has 256 values, got " + sorted.length);
    }
    float[] mids = new float[255];
    for (int i = 0; i < 255; i++) {
      if (!(sorted[i] < sorted[i + 1])) {
        throw new IllegalArgumentException("code values must be strictly ascending at " + i);
      }
      mids[i] = (sorted[i] + sorted[i + 1]) / 2f;
    }
    float[] c = new float[15];
    float[] f = new float[16 * 15];
    for (int k = 1; k <= 15; k++) {
      c[k - 1] = mids[16 * k - 1];
    }
    for (int s = 0; s < 16; s++) {
      for (int j = 0; j < 15; j++) {
        f[s * 15 + j] = mids[16 * s + j];
      }
    }
    this.values = manager.create(sorted);
    this.coarse = manager.create(c, new Shape(1, 15));
    this.fine = manager.create(f, new Shape(16, 15));
    this.mids = manager.create(mids);
  }

  /**
   * The 255 midpoints between neighbouring code values, ascending: x's code is the number of them
   * strictly below x (what {@link #nearest} computes in two levels).
   */
  public NDArray midpoints() {
    return mids;
  }

  /** The 256 code values. */
  public NDArray values() {
    return values;
  }

  /** x (n) float32 in [-1, 1] -> (n) uint8 index of the nearest code value, in x's manager. */
  public NDArray nearest(NDArray x) {
    NDManager target = x.getManager();
    try (NDManager scope = target.newSubManager()) {
      coarse.tempAttach(scope);
      fine.tempAttach(scope);
      NDArray column = x.reshape(-1, 1);
      NDArray segment = column.gt(coarse).toType(DataType.INT64, false).sum(new int[] {1}); // (n)
      NDArray rows = fine.get(segment); // (n, 15)
      NDArray within = column.gt(rows).toType(DataType.INT64, false).sum(new int[] {1});
      NDArray out =
          segment
              .mul(io.loraflow.engine.model.Scalars.like(segment, 16))
              .add(within)
              .toType(DataType.UINT8, false);
      out.attach(target);
      return out;
    }
  }

  /** codes (n) uint8 -> (n) float32 code values, in the codes' manager. */
  public NDArray lookup(NDArray codes) {
    NDManager target = codes.getManager();
    try (NDManager scope = target.newSubManager()) {
      values.tempAttach(scope);
      NDArray out = values.get(codes.toType(DataType.INT64, false));
      out.attach(target);
      return out;
    }
  }

  @Override
  public void close() {
    values.close();
    coarse.close();
    fine.close();
    mids.close();
  }
}
