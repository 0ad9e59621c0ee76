package io.loraflow.engine.train;

/**
 * Tracks the best held-out loss so far and counts evaluations without improvement; pure (no
 * tensors), so its whole state is the {@link State} record that checkpoints carry.
 */
public final class EarlyStopping {

  /**
   * @param bestLoss lowest held-out loss seen, null before the first evaluation
   * @param bestStep optimizer step of that evaluation, -1 before the first
   * @param evalsWithoutImprovement evaluations since the best one that did not improve on it by
   *     more than minDelta
   */
  public record State(Double bestLoss, long bestStep, int evalsWithoutImprovement) {
    public static final State INITIAL = new State(null, -1, 0);
  }

  /**
   * What one evaluation changed.
   *
   * @param improved this loss is the new best
   * @param stop patience is used up: training should end here
   */
  public record Decision(boolean improved, boolean stop) {}

  private final EvalPolicy policy;
  private State state;

  public EarlyStopping(EvalPolicy policy, State state) {
    this.policy = policy;
    this.state = state == null ? State.INITIAL : state;
  }

  /** Records the held-out {@code loss} measured after optimizer step {@code step}. */
  public Decision observe(long step, double loss) {
    if (!Double.isFinite(loss)) {
      throw new IllegalArgumentException("held-out loss at step " + step + " is " + loss);
    }
    boolean improved = state.bestLoss() == null || loss < state.bestLoss() - policy.minDelta();
    state =
        improved
            ? new State(loss, step, 0)
            : new State(state.bestLoss(), state.bestStep(), state.evalsWithoutImprovement() + 1);
    boolean stop = policy.patience() > 0 && state.evalsWithoutImprovement() >= policy.patience();
    return new Decision(improved, stop);
  }

  public State state() {
    return state;
  }

  /** True when patience was already used up (a run resumed from its early-stop checkpoint). */
  public boolean exhausted() {
    return policy.patience() > 0 && state.evalsWithoutImprovement() >= policy.patience();
  }
}
