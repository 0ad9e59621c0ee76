package io.loraflow.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.api.common.v1.ActivityType;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Progress = workflow phase + the pending GPU activity's heartbeat details. */
class RunProgressTest {
  static final DataConverter JSON = DefaultDataConverter.newDefaultInstance();

  static PendingActivityInfo pending(String type, int attempt, Object details) {
    PendingActivityInfo.Builder b =
        PendingActivityInfo.newBuilder()
            .setActivityType(ActivityType.newBuilder().setName(type).build())
            .setAttempt(attempt);
    if (details != null) {
      b.setHeartbeatDetails(JSON.toPayloads(details).orElseThrow());
    }
    return b.build();
  }

  @Test
  void trainHeartbeatFillsTheStepCountersOfTheTrainingPhase() {
    Progress state = Progress.of(Phase.TRAINING, "81 training examples");
    Progress beat = new Progress(Phase.TRAINING, 40, 100, 1.5, 2000.0, 30L, "step 40/100");
    Progress p =
        RunProgress.merge(
            state, List.of(pending("Train", 1, new TrainHeartbeat(40, "k", 1.5, beat))), JSON);
    assertEquals(new Progress(Phase.TRAINING, 40, 100, 1.5, 2000.0, 30L, "step 40/100"), p);
  }

  @Test
  void aRetriedAttemptSaysSo() {
    Progress beat = new Progress(Phase.TRAINING, 7, 100, 2.0, null, null, "step 7/100");
    Progress p =
        RunProgress.merge(
            Progress.of(Phase.TRAINING, ""),
            List.of(pending("Train", 3, new TrainHeartbeat(7, null, 2.0, beat))),
            JSON);
    assertEquals("step 7/100 (attempt 3)", p.message());
    assertEquals(7, p.step());
  }

  @Test
  void evaluateHeartbeatsAPlainProgress() {
    Progress beat = new Progress(Phase.EVALUATING, 3, 16, null, null, null, "answering");
    Progress p =
        RunProgress.merge(
            Progress.of(Phase.EVALUATING, "trained"), List.of(pending("Evaluate", 1, beat)), JSON);
    assertEquals(3, p.step());
    assertEquals(16, p.totalSteps());
  }

  @Test
  void detailsOfAnotherPhaseOrShapeAreIgnored() {
    Progress state = Progress.of(Phase.EVALUATING, "trained 10 steps");
    Progress trainBeat = new Progress(Phase.TRAINING, 10, 10, 1.0, null, null, "");
    assertEquals(
        state,
        RunProgress.merge(
            state,
            List.of(
                pending("Train", 1, new TrainHeartbeat(10, null, 1.0, trainBeat)),
                pending("Evaluate", 1, "evaluated 3"),
                pending("Evaluate", 1, null)),
            JSON));
    // resume-only details of an older worker: no progress line
    Progress training = Progress.of(Phase.TRAINING, "");
    assertEquals(
        training,
        RunProgress.merge(
            training, List.of(pending("Train", 1, new TrainHeartbeat(4, null, 1.0))), JSON));
  }

  @Test
  void aCancelInFlightKeepsItsMessage() {
    Progress state = Progress.of(Phase.TRAINING, "cancelling: user request");
    Progress beat = new Progress(Phase.TRAINING, 5, 60, 1.0, null, null, "step 5/60");
    Progress p =
        RunProgress.merge(
            state, List.of(pending("Train", 1, new TrainHeartbeat(5, null, 1.0, beat))), JSON);
    assertTrue(p.message().startsWith("cancelling"), p.message());
    assertEquals(5, p.step());
  }
}
