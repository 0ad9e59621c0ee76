package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.Timestamps;
import io.temporal.api.common.v1.ActivityType;
import io.temporal.api.history.v1.ActivityTaskCompletedEventAttributes;
import io.temporal.api.history.v1.ActivityTaskScheduledEventAttributes;
import io.temporal.api.history.v1.ActivityTaskStartedEventAttributes;
import io.temporal.api.history.v1.HistoryEvent;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The soak's per-run kill plan: drawn from the targets, in pipeline order, reproducible by seed.
 */
class ChaosSoakPlanTest {

  @Test
  void aRunsTargetsComeInPipelineOrder() {
    for (long seed = 0; seed < 50; seed++) {
      List<String> plan = ChaosSoak.planKills(new Random(seed), 5);
      assertEquals(5, plan.size());
      for (int k = 1; k < plan.size(); k++) {
        int before = ChaosSoak.PIPELINE_ORDER.indexOf(plan.get(k - 1).replace("@cpu", ""));
        int after = ChaosSoak.PIPELINE_ORDER.indexOf(plan.get(k).replace("@cpu", ""));
        assertTrue(before >= 0 && after >= before, "seed " + seed + ": " + plan);
      }
      assertTrue(ChaosSoak.TARGETS.containsAll(plan), plan.toString());
    }
  }

  @Test
  void theSameSeedPlansTheSameKills() {
    assertEquals(ChaosSoak.planKills(new Random(7), 6), ChaosSoak.planKills(new Random(7), 6));
  }

  @Test
  void everyTargetIsAnActivityOfThePipeline() {
    for (String t : ChaosSoak.TARGETS) {
      assertTrue(ChaosSoak.PIPELINE_ORDER.contains(t.replace("@cpu", "")), t);
    }
  }

  @Test
  void activityTimesComeFromTheTwinsHistoryAndBoundTheKillWindow() {
    List<HistoryEvent> events =
        List.of(
            scheduled(5, "PrepareDataset", 10_000),
            started(6, 5, 10_010),
            completed(7, 5, 10_300),
            scheduled(8, "Train", 10_400),
            started(9, 8, 10_500),
            completed(10, 8, 40_400));
    Map<String, Double> took = ChaosSoak.activitySeconds(events);
    assertEquals(0.3, took.get("PrepareDataset"), 1e-9);
    assertEquals(30.0, took.get("Train"), 1e-9);
    // a 0.3 s activity: the kill lands within 75 ms of it being seen running, not 1.5 s later
    assertEquals(0.075, ChaosSoak.killWindowSeconds("PrepareDataset", 20, took), 1e-9);
    assertEquals(1.2, ChaosSoak.killWindowSeconds("Evaluate", 20, Map.of("Evaluate", 1.5)), 1e-9);
    assertEquals(16.0, ChaosSoak.killWindowSeconds("Train", 20, took), 1e-9);
    assertEquals(1.5, ChaosSoak.killWindowSeconds("Evaluate", 20, took), "not timed: 1.5 s");
    assertEquals(
        1.5, ChaosSoak.killWindowSeconds("Evaluate", 20, Map.of("Evaluate", 9.0)), "capped");
  }

  private static HistoryEvent scheduled(long id, String type, long millis) {
    return event(id, millis)
        .setActivityTaskScheduledEventAttributes(
            ActivityTaskScheduledEventAttributes.newBuilder()
                .setActivityType(ActivityType.newBuilder().setName(type)))
        .build();
  }

  private static HistoryEvent started(long id, long scheduledId, long millis) {
    return event(id, millis)
        .setActivityTaskStartedEventAttributes(
            ActivityTaskStartedEventAttributes.newBuilder().setScheduledEventId(scheduledId))
        .build();
  }

  private static HistoryEvent completed(long id, long scheduledId, long millis) {
    return event(id, millis)
        .setActivityTaskCompletedEventAttributes(
            ActivityTaskCompletedEventAttributes.newBuilder().setScheduledEventId(scheduledId))
        .build();
  }

  private static HistoryEvent.Builder event(long id, long millis) {
    return HistoryEvent.newBuilder().setEventId(id).setEventTime(Timestamps.fromMillis(millis));
  }
}
