package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * A snapshot of a run's progress: the phase from {@link FineTuneWorkflow#progress()}, the step
 * counters from the running GPU activity's heartbeat details (combined by {@link RunProgress}).
 *
 * @param phase where the run is
 * @param step optimizer steps done in this phase (training) or prompts done (evaluation); 0 when
 *     not applicable
 * @param totalSteps total steps/prompts of the phase; 0 when unknown
 * @param loss latest training loss (mean over the step's tokens); null before the first step
 * @param tokensPerSecond training/generation throughput in tokens per second; null when unknown
 * @param etaSeconds estimated seconds until the phase ends; null when unknown
 * @param message one human-readable line (e.g. "resumed from step 40", "cancelled: user request")
 * @param evalLoss latest held-out loss measured during training; null before the first evaluation
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Progress(
    Phase phase,
    long step,
    long totalSteps,
    Double loss,
    Double tokensPerSecond,
    Long etaSeconds,
    String message,
    Double evalLoss) {

  public Progress {
    if (phase == null) {
      phase = Phase.STARTING;
    }
    message = message == null ? "" : message;
  }

  /** A progress snapshot without a held-out loss. */
  public Progress(
      Phase phase,
      long step,
      long totalSteps,
      Double loss,
      Double tokensPerSecond,
      Long etaSeconds,
      String message) {
    this(phase, step, totalSteps, loss, tokensPerSecond, etaSeconds, message, null);
  }

  /** A progress line with only a phase and message (no step counters). */
  public static Progress of(Phase phase, String message) {
    return new Progress(phase, 0, 0, null, null, null, message);
  }

  /** Fraction done in [0, 1], or -1 when the total is unknown. */
  public double fraction() {
    return totalSteps <= 0 ? -1 : Math.min(1.0, (double) step / totalSteps);
  }
}
