package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Heartbeat details of the train activity. A retried attempt reads the last one with {@code
 * Activity.getExecutionContext().getHeartbeatDetails(TrainHeartbeat.class)} and resumes from {@code
 * checkpointKey} (or, when absent, from the newest complete checkpoint under {@code
 * runs/<id>/checkpoints/}).
 *
 * @param step optimizer steps done
 * @param checkpointKey prefix of the newest complete checkpoint ({@code .../step-<n>/}), or null
 * @param loss latest training loss, or null before the first step
 * @param evalLoss latest held-out loss measured during training, or null before the first
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrainHeartbeat(long step, String checkpointKey, Double loss, Double evalLoss) {

  /** A heartbeat without a held-out loss. */
  public TrainHeartbeat(long step, String checkpointKey, Double loss) {
    this(step, checkpointKey, loss, null);
  }
}
