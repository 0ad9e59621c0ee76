package io.loraflow.engine.train;

/** Receives metrics every logEvery optimizer steps (and after the last step). */
@FunctionalInterface
public interface TrainProgress {
  void onStep(StepMetrics metrics);
}
