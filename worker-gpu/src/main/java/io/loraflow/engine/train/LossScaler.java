package io.loraflow.engine.train;

/**
 * Dynamic loss scaling for fp16 (torch.cuda.amp.GradScaler's rule): the loss is multiplied by
 * {@link #scale()} before backward; a step whose gradients hold inf/NaN is skipped and the scale
 * halves; after growthInterval good steps in a row it doubles. fp32 runs use a fixed scale of 1.
 */
public final class LossScaler {

  private final boolean dynamic;
  private final int growthInterval;
  private double scale;
  private int goodSteps;

  public LossScaler(boolean dynamic, double initialScale, int growthInterval) {
    this.dynamic = dynamic;
    this.growthInterval = growthInterval;
    this.scale = dynamic ? initialScale : 1.0;
  }

  public double scale() {
    return scale;
  }

  public int goodSteps() {
    return goodSteps;
  }

  /** Restores a checkpointed state. */
  public void restore(double scale, int goodSteps) {
    this.scale = scale;
    this.goodSteps = goodSteps;
  }

  /** Records one step's outcome; returns false when the step must be skipped. */
  public boolean update(boolean gradientsFinite) {
    if (!dynamic) {
      return gradientsFinite;
    }
    if (!gradientsFinite) {
      scale = Math.max(1.0, scale * 0.5);
      goodSteps = 0;
      return false;
    }
    if (++goodSteps >= growthInterval) {
      scale = Math.min(scale * 2.0, 16777216.0); // 2^24: fp16 gradients overflow long before
      goodSteps = 0;
    }
    return true;
  }
}
