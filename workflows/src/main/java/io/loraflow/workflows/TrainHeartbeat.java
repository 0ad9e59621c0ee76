package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Heartbeat details of the train activity: what a retried attempt resumes from, and the progress
 * that {@link RunProgress} shows (heartbeats add no history events, so progress costs nothing
 * however long training runs). A retried attempt reads the last one with {@code
 * Activity.getExecutionContext().getHeartbeatDetails(TrainHeartbeat.class)} and resumes from {@code
 * checkpointKey} (or, when absent, from the newest complete checkpoint under {@code
 * runs/<id>/checkpoints/}).
 *
 * @param step optimizer steps done
 * @param checkpointKey prefix of the newest complete checkpoint ({@code .../step-<n>/}), or null
 * @param loss latest training loss, or null before the first step
 * @param progress the training progress line (phase {@link Phase#TRAINING}: step/total, loss,
 *     tokens/s, ETA); null in details written by workers older than this field
 * @param evalLoss latest held-out loss measured during training, or null before the first
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrainHeartbeat(
    long step, String checkpointKey, Double loss, Progress progress, Double evalLoss) {

  /** Details without a progress line (resume information only). */
  public TrainHeartbeat(long step, String checkpointKey, Double loss) {
    this(step, checkpointKey, loss, null, null);
  }

  /** Details with a progress line; the held-out loss is the line's. */
  public TrainHeartbeat(long step, String checkpointKey, Double loss, Progress progress) {
    this(step, checkpointKey, loss, progress, progress == null ? null : progress.evalLoss());
  }

  /** The same details with another progress line. */
  public TrainHeartbeat withProgress(Progress p) {
    return new TrainHeartbeat(step, checkpointKey, loss, p, evalLoss);
  }
}
