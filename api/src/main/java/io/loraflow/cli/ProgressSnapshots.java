package io.loraflow.cli;

import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/** Turns the workflow's {@link Progress} into a {@link ProgressLine.Snapshot}. */
final class ProgressSnapshots {

  private final EtaEstimator eta = new EtaEstimator();

  /**
   * The snapshot of {@code p} seen at {@code now}: the run's own ETA when it reports one, else the
   * estimate from the step rate this follower has seen.
   */
  ProgressLine.Snapshot of(Progress p, Instant now) {
    Duration observed = eta.observe(p.phase().name(), p.step(), p.totalSteps(), now);
    Duration reported = p.etaSeconds() == null ? null : Duration.ofSeconds(p.etaSeconds());
    return new ProgressLine.Snapshot(
        label(p.phase()),
        Math.max(0, p.step()),
        Math.max(0, p.totalSteps()),
        p.loss(),
        p.tokensPerSecond(),
        reported != null ? reported : observed,
        Numbers.roundIn(p.message()),
        p.evalLoss());
  }

  /** {@code PREPARING_DATASET} -> {@code dataset}: short enough for the phase column. */
  static String label(Phase phase) {
    return switch (phase) {
      case STARTING -> "starting";
      case PREPARING_DATASET -> "dataset";
      case QUEUED -> "queued";
      case PREPARING_MODEL -> "model";
      case FORMATTING_PROMPTS -> "prompts";
      case TRAINING -> "train";
      case EVALUATING -> "evaluate";
      case REGISTERING -> "register";
      default -> phase.name().toLowerCase(Locale.ROOT);
    };
  }
}
