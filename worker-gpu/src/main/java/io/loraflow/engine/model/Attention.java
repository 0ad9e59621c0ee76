package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Scaled dot-product attention with grouped kv heads, computed in the dtype of q: torch's softmax
 * accumulates in float32 for float16 input and rounds once, which is what HF's eager attention gets
 * from softmax(scores.float()).to(fp16) - without two full-size casts of the (B, heads, T, S)
 * scores, which in a recorded (training) pass are not free.
 */
public final class Attention {

  /**
   * The additive mask value of a blocked key in float16: -2^15, far below any real score, yet score
   * + mask stays finite (-65504 could overflow to -inf, and a row with only -inf is NaN).
   */
  static final float HALF_BLOCKED = -32768f;

  private Attention() {}

  /**
   * softmax(q k^T * scale + mask) v.
   *
   * <p>Grouped heads are not materialized (no repeat_kv copy): the g = heads / kvHeads query heads
   * of a group are stacked along the time axis, (B, kvHeads, g * T, D), and multiplied with their
   * one kv head. Same dot products as HF's repeat_kv, without copying K and V.
   *
   * @param q (B, heads, T, D)
   * @param k (B, kvHeads, S, D), heads a multiple of kvHeads; kv head j serves query heads j*g ..
   *     j*g+g-1 (HF repeat_kv)
   * @param v (B, kvHeads, S, D)
   * @param additiveMask (B or 1, 1, T, S), 0 where attending and a large negative elsewhere, best
   *     in the dtype of q ({@link #causalMask(NDArray, int, int, int, NDArray, int, DataType)})
   * @return (B, T, heads * D) in the dtype of q
   */
  public static NDArray forward(
      NDArray q, NDArray k, NDArray v, NDArray additiveMask, double scale) {
    Shape qs = q.getShape();
    long b = qs.get(0);
    long heads = qs.get(1);
    long t = qs.get(2);
    long d = qs.get(3);
    long kvHeads = k.getShape().get(1);
    long s = k.getShape().get(2);
    long g = heads / kvHeads;
    DataType dtype = q.getDataType();
    NDArray mask = additiveMask;
    if (mask.getDataType() != dtype) {
      // a float32 -MAX would become -inf in float16: clamp first (the mask needs no gradient)
      mask =
          dtype == DataType.FLOAT16
              ? mask.clip(HALF_BLOCKED, 0).toType(dtype, false)
              : mask.toType(dtype, false);
    }
    // scale q (B*heads*T*D values) rather than the scores (B*heads*T*S): same product, and for a
    // power-of-two scale (head_dim 64, 256) bit-identical
    NDArray scaled = Scalars.mul(q, scale);
    NDArray grouped = g == 1 ? scaled : scaled.reshape(b, kvHeads, g * t, d);
    NDArray scores = grouped.matMul(k.transpose(0, 1, 3, 2)); // (B, kvH, g*T, S)
    NDArray probs;
    if (g == 1) {
      probs = scores.add(mask).softmax(-1);
    } else {
      long mb = mask.getShape().get(0);
      probs =
          scores
              .reshape(b, kvHeads, g, t, s)
              .add(mask.reshape(mb, 1, 1, t, s))
              .softmax(-1)
              .reshape(b, kvHeads, g * t, s);
    }
    NDArray out = probs.matMul(v); // (B, kvH, g*T, D)
    return out.reshape(b, heads, t, d).transpose(0, 2, 1, 3).reshape(b, t, heads * d);
  }

  /** {@link #causalMask(NDArray, int, int, int, NDArray, int, DataType)} in float32. */
  public static NDArray causalMask(
      NDArray like, int batch, int past, int t, NDArray keyPadding, int slidingWindow) {
    return causalMask(like, batch, past, t, keyPadding, slidingWindow, DataType.FLOAT32);
  }

  /**
   * The additive mask for T new tokens after {@code past} cached ones, over S = past + T keys. Slot
   * i of the query attends to key slot j when j <= past + i (causal), the key is real (key
   * padding), and, with a sliding window w, (past + i) - j < w (HF: kv_idx > q_idx - window).
   *
   * @param keyPadding (B, S) 1/0 (any integer or boolean type), or null for no padding
   * @param batch B (used when keyPadding is null)
   * @param dtype FLOAT32 (blocked = -Float.MAX_VALUE) or FLOAT16 (blocked = -2^15)
   * @return (B or 1, 1, T, S) in {@code dtype}, in the manager of {@code like}
   */
  public static NDArray causalMask(
      NDArray like,
      int batch,
      int past,
      int t,
      NDArray keyPadding,
      int slidingWindow,
      DataType dtype) {
    int s = past + t;
    var manager = like.getManager();
    NDArray queryPos = manager.arange(past, past + t).toType(DataType.INT64, false).reshape(t, 1);
    NDArray keyPos = manager.arange(0, s).toType(DataType.INT64, false).reshape(1, s);
    NDArray allowed = keyPos.lte(queryPos); // (T, S)
    if (slidingWindow > 0) {
      allowed = allowed.logicalAnd(queryPos.sub(keyPos).lt(slidingWindow));
    }
    allowed = allowed.reshape(1, 1, t, s);
    if (keyPadding != null) {
      if (keyPadding.getShape().dimension() != 2 || keyPadding.getShape().get(1) != s) {
        throw new IllegalArgumentException(
            "key padding mask has shape "
                + keyPadding.getShape()
                + " but this call has "
                + s
                + " key positions ("
                + past
                + " cached + "
                + t
                + " new)");
      }
      NDArray real =
          keyPadding.toType(DataType.BOOLEAN, false).reshape(keyPadding.getShape().get(0), 1, 1, s);
      allowed = allowed.logicalAnd(real);
    }
    // allowed -> (1 - 1) * MAX = 0, blocked -> (0 - 1) * MAX = -MAX (finite: a row with no real
    // key, a pad query, softmaxes to uniform instead of NaN)
    NDArray blocked = allowed.toType(DataType.FLOAT32, false).sub(1f); // 0 or -1
    if (dtype == DataType.FLOAT16) {
      return blocked.mul(-HALF_BLOCKED).toType(DataType.FLOAT16, false);
    }
    return blocked.mul(Float.MAX_VALUE);
  }
}
