package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.nativeops.FastOps;

/**
 * Rotary position embedding in the HF convention (rotate_half over the two halves of a head, not
 * interleaved pairs), with the rope_scaling variants linear, dynamic (NTK) and llama3.
 *
 * <p>Inverse frequencies follow HF bit for bit where it matters: computed in float32 as {@code 1 /
 * base^(2i/dim)}, angles = position * inv_freq in float32, cos/sin cast to the compute dtype.
 */
public final class Rotary {

  private final int dim; // rotary width = head_dim
  private final double theta;
  private final ModelConfig.RopeScaling scaling;
  private final int maxPositions;
  private final float[] baseInvFreq; // (dim/2), already scaled for linear/llama3

  public Rotary(ModelConfig config) {
    this.dim = config.headDim();
    this.theta = config.ropeTheta();
    this.scaling = config.ropeScaling();
    this.maxPositions = config.maxPositions();
    if (dim % 2 != 0) {
      throw new ModelLoadException("rotary needs an even head_dim, got " + dim);
    }
    if (!(theta > 0)) {
      throw new ModelLoadException("rope_theta must be > 0, got " + theta);
    }
    this.baseInvFreq = initialInvFreq();
  }

  private float[] initialInvFreq() {
    float[] inv = plainInvFreq(theta);
    if (scaling == null) {
      return inv;
    }
    switch (scaling.type()) {
      case "default":
      case "dynamic": // rescaled per call, only beyond max_position_embeddings
        return inv;
      case "linear":
        for (int i = 0; i < inv.length; i++) {
          inv[i] = (float) (inv[i] / scaling.factor());
        }
        return inv;
      case "llama3":
        return llama3(inv);
      default:
        throw new ModelLoadException(
            "unsupported rope_scaling type '"
                + scaling.type()
                + "' (supported: linear, dynamic, llama3)");
    }
  }

  private float[] plainInvFreq(double base) {
    float[] inv = new float[dim / 2];
    for (int i = 0; i < inv.length; i++) {
      float exponent = (float) (2 * i) / dim;
      inv[i] = 1.0f / (float) Math.pow((float) base, exponent);
    }
    return inv;
  }

  /** HF _compute_llama3_parameters: wavelength-dependent division by factor with smoothing. */
  private float[] llama3(float[] inv) {
    double factor = scaling.factor();
    double low = scaling.lowFreqFactor();
    double high = scaling.highFreqFactor();
    double oldContext = scaling.originalMaxPositions();
    double lowFreqWavelen = oldContext / low;
    double highFreqWavelen = oldContext / high;
    float[] out = new float[inv.length];
    for (int i = 0; i < inv.length; i++) {
      float f = inv[i];
      float wavelen = (float) (2 * Math.PI) / f;
      float scaled = wavelen > lowFreqWavelen ? (float) (f / factor) : f;
      float smooth = (float) ((oldContext / wavelen - low) / (high - low));
      float smoothed = (float) ((1 - smooth) * scaled / factor + smooth * scaled);
      boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
      out[i] = medium ? smoothed : scaled;
    }
    return out;
  }

  /** inv_freq for a call whose largest position is seqLen - 1 (only dynamic depends on it). */
  float[] invFreq(long seqLen) {
    if (scaling != null && scaling.type().equals("dynamic") && seqLen > maxPositions) {
      // HF _compute_dynamic_ntk_parameters; the base grows with the sequence length
      double factor = scaling.factor();
      double base =
          theta
              * Math.pow((factor * seqLen / maxPositions) - (factor - 1), (double) dim / (dim - 2));
      return plainInvFreq(base);
    }
    return baseInvFreq;
  }

  boolean isDynamic() {
    return scaling != null && scaling.type().equals("dynamic");
  }

  /**
   * cos and sin for the given positions.
   *
   * @param positions (B, T) int64
   * @param dtype compute dtype of q and k
   * @return {cos, sin}, each (B, 1, T, dim), in the manager of {@code positions}
   */
  public NDArray[] cosSin(NDArray positions, DataType dtype) {
    NDManager manager = positions.getManager();
    long seqLen = isDynamic() ? positions.max().toType(DataType.INT64, false).getLong() + 1 : 0;
    float[] inv = invFreq(seqLen);
    NDArray invFreq = manager.create(inv, new Shape(inv.length));
    NDArray freqs = positions.toType(DataType.FLOAT32, false).expandDims(-1).mul(invFreq);
    NDArray emb = freqs.concat(freqs, -1); // (B, T, dim)
    NDArray cos = emb.cos().toType(dtype, false).expandDims(1);
    NDArray sin = emb.sin().toType(dtype, false).expandDims(1);
    return new NDArray[] {cos, sin};
  }

  /** x (B, heads, T, dim) -> x * cos + rotate_half(x) * sin. */
  public static NDArray apply(NDArray x, NDArray cos, NDArray sin) {
    if (FastOps.activeFor(x)) {
      return FastOps.rotary(x, cos, sin); // one native call: 4 kernels instead of 7 DJL ops
    }
    long half = x.getShape().get(3) / 2;
    NDArray x1 = x.get(":, :, :, :" + half);
    NDArray x2 = x.get(":, :, :, " + half + ":");
    NDArray rotated = x2.neg().concat(x1, -1);
    return x.mul(cos).add(rotated.mul(sin));
  }
}
