package io.loraflow.engine.train;

import java.nio.file.Path;
import java.util.List;

/**
 * How a {@link Trainer#run()} ended.
 *
 * @param steps optimizer steps done in total (including those before a resume)
 * @param totalSteps steps the run was planned for
 * @param stopped true when a stop request ended it early (after a checkpoint)
 * @param history metrics of every step so far, resumed steps included
 * @param lastCheckpoint the newest complete checkpoint directory, or null
 */
public record TrainOutcome(
    long steps, long totalSteps, boolean stopped, List<StepMetrics> history, Path lastCheckpoint) {

  public boolean finished() {
    return steps >= totalSteps;
  }
}
