package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Scaled dot-product attention with grouped kv heads, softmax in fp32 (HF eager semantics). */
public final class Attention {

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
   * @param additiveMask (B or 1, 1, T, S) fp32, 0 where attending and a huge negative elsewhere
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
    NDArray grouped = g == 1 ? q : q.reshape(b, kvHeads, g * t, d);
    NDArray scores = grouped.matMul(k.transpose(0, 1, 3, 2)).mul(scale); // (B, kvH, g*T, S)
    NDArray scores32 = Casts.to(scores, DataType.FLOAT32);
    NDArray probs;
    if (g == 1) {
      probs = scores32.add(additiveMask).softmax(-1);
    } else {
      long mb = additiveMask.getShape().get(0);
      probs =
          scores32
              .reshape(b, kvHeads, g, t, s)
              .add(additiveMask.reshape(mb, 1, 1, t, s))
              .softmax(-1)
              .reshape(b, kvHeads, g * t, s);
    }
    NDArray out = Casts.to(probs, q.getDataType()).matMul(v); // (B, kvH, g*T, D)
    return out.reshape(b, heads, t, d).transpose(0, 2, 1, 3).reshape(b, t, heads * d);
  }

  /**
   * The additive mask for T new tokens after {@code past} cached ones, over S = past + T keys. Slot
   * i of the query attends to key slot j when j <= past + i (causal), the key is real (key
   * padding), and, with a sliding window w, (past + i) - j < w (HF: kv_idx > q_idx - window).
   *
   * @param keyPadding (B, S) 1/0 (any integer or boolean type), or null for no padding
   * @param batch B (used when keyPadding is null)
   * @return (B or 1, 1, T, S) fp32 in the manager of {@code like}
   */
  public static NDArray causalMask(
      NDArray like, int batch, int past, int t, NDArray keyPadding, int slidingWindow) {
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
    return allowed.toType(DataType.FLOAT32, false).sub(1f).mul(Float.MAX_VALUE);
  }
}
