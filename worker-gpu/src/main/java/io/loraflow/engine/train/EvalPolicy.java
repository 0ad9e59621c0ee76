package io.loraflow.engine.train;

/**
 * When the trainer measures the held-out loss, and when it stops because that loss has stopped
 * improving. Part of the resolved {@link TrainConfig} (so a checkpoint resumes with the same
 * policy).
 *
 * @param everySteps evaluate after every N optimizer steps (0 = not by step count)
 * @param eachEpoch evaluate after the last step of every epoch (the run's last step included)
 * @param patience stop after this many evaluations in a row without an improvement of more than
 *     {@code minDelta} (0 = never stop early)
 * @param minDelta an evaluation improves on the best one when its loss is lower by more than this
 *     (nats per answer token, >= 0)
 */
public record EvalPolicy(int everySteps, boolean eachEpoch, int patience, double minDelta) {

  /** No evaluation during training, no early stopping: the last step's adapter is published. */
  public static final EvalPolicy OFF = new EvalPolicy(0, false, 0, 0);

  public EvalPolicy {
    if (everySteps < 0) {
      throw new IllegalArgumentException(
          "evaluation interval must be >= 0 steps (0 = only at epoch ends), got " + everySteps);
    }
    if (patience < 0) {
      throw new IllegalArgumentException(
          "early-stopping patience must be >= 0 evaluations (0 = off), got " + patience);
    }
    if (!(minDelta >= 0) || Double.isInfinite(minDelta)) {
      throw new IllegalArgumentException(
          "early-stopping min delta must be a finite loss >= 0, got " + minDelta);
    }
    if (patience > 0 && everySteps == 0 && !eachEpoch) {
      throw new IllegalArgumentException(
          "early stopping (patience "
              + patience
              + ") needs evaluations: set an evaluation interval or evaluate at epoch ends");
    }
  }

  /** True when the trainer evaluates at all. */
  public boolean enabled() {
    return everySteps > 0 || eachEpoch;
  }

  /**
   * Whether the step that just finished is evaluated.
   *
   * @param step optimizer steps done (1-based)
   * @param endsEpoch the step consumed the last micro-batch of an epoch
   */
  public boolean due(long step, boolean endsEpoch) {
    return (everySteps > 0 && step % everySteps == 0) || (eachEpoch && endsEpoch);
  }
}
