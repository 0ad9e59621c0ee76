package io.loraflow.engine.train;

import java.nio.file.Path;
import java.util.List;

/**
 * How a {@link Trainer#run()} ended.
 *
 * @param steps optimizer steps done in total (including those before a resume)
 * @param totalSteps steps the run was planned for
 * @param stopped true when a stop request ended it early (after a checkpoint)
 * @param history metrics of every step so far, resumed steps included, in bounded form
 * @param lastCheckpoint the newest complete checkpoint directory, or null
 * @param stoppedEarly early stopping ended the run before its planned steps (it is finished)
 * @param bestStep step of the best held-out evaluation (its adapter is the published one), -1 when
 *     the run did not evaluate during training
 * @param bestEvalLoss held-out loss at bestStep, null when the run did not evaluate
 * @param evals every held-out evaluation during training, resumed ones included
 */
public record TrainOutcome(
    long steps,
    long totalSteps,
    boolean stopped,
    StepHistory.Snapshot history,
    Path lastCheckpoint,
    boolean stoppedEarly,
    long bestStep,
    Double bestEvalLoss,
    List<EvalMetrics> evals) {

  /** True when the run needs no more steps: planned steps done, or stopped early. */
  public boolean finished() {
    return steps >= totalSteps || stoppedEarly;
  }
}
