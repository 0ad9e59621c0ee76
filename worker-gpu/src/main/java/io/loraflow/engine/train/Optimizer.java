package io.loraflow.engine.train;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.Map;

/**
 * Updates the LoRA master weights in place. Called with autograd off, with float32 gradients that
 * are already unscaled and clipped.
 */
public interface Optimizer extends AutoCloseable {

  /**
   * @param params float32 master weights, updated in place
   * @param grads their gradients, same order
   * @param lr learning rate of this step
   * @param step 1-based count of updates including this one (bias correction)
   */
  void step(List<NDArray> params, List<NDArray> grads, double lr, long step);

  /** Every state array under a stable name (for checkpoints). */
  Map<String, NDArray> state();

  /** Restores {@link #state()} from a checkpoint (same names, shapes and dtypes). */
  void load(Map<String, NDArray> state);

  @Override
  void close();
}
