package io.loraflow.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Estimates the time left in a phase from the step rate seen so far by this observer.
 *
 * <p>The rate is measured from the first observation of the phase (not from step 0), so a follower
 * that attaches to a run mid-way, or a run resumed from a checkpoint, does not count the steps done
 * before it as instantaneous. A new phase name, or a step going backwards (a retry that resumed
 * from an older checkpoint), starts a new measurement. Pure: time is passed in.
 */
public final class EtaEstimator {

  private String phase;
  private long firstStep;
  private Instant firstSeen;

  /** Records an observation and returns the estimated time left, or null while unknown. */
  public Duration observe(String phase, long step, long total, Instant now) {
    Objects.requireNonNull(now, "now");
    if (!Objects.equals(phase, this.phase) || firstSeen == null || step < firstStep) {
      this.phase = phase;
      this.firstStep = step;
      this.firstSeen = now;
      return total > 0 && step >= total ? Duration.ZERO : null;
    }
    if (total <= 0) {
      return null;
    }
    if (step >= total) {
      return Duration.ZERO;
    }
    long stepsSeen = step - firstStep;
    long millis = Duration.between(firstSeen, now).toMillis();
    if (stepsSeen <= 0 || millis <= 0) {
      return null;
    }
    double millisPerStep = (double) millis / stepsSeen;
    return Duration.ofMillis(Math.round(millisPerStep * (total - step)));
  }
}
