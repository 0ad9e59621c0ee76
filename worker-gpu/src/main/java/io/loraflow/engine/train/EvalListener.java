package io.loraflow.engine.train;

/** Receives every held-out evaluation during training (on the training thread). */
@FunctionalInterface
public interface EvalListener {
  void onEval(EvalMetrics metrics);
}
