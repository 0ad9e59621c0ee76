package io.loraflow.engine.train;

/**
 * Measures the held-out loss for the trainer's evaluator hook. The trainer's own implementation is
 * the answer-token cross-entropy of the model over the eval split; tests script a curve.
 */
@FunctionalInterface
public interface HeldOutLoss {

  /**
   * @param step optimizer steps done
   * @return {mean loss per answer token, answer tokens counted}
   */
  double[] measure(long step);
}
