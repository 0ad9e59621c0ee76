package io.loraflow.api.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.SweepGrid;
import io.loraflow.workflows.SweepSpec;
import io.temporal.testing.TestWorkflowEnvironment;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Sweeps count against the same limits as runs: {@code min(maxConcurrent, children)} runs each, per
 * key and in total. The in-memory Temporal has no visibility queries, so what counts here is what
 * this instance admitted in the visibility-lag window (the real-visibility path is in ApiIT).
 */
class AdmissionControlTest {

  private static final TestWorkflowEnvironment TEMPORAL = TestWorkflowEnvironment.newInstance();

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  private static final AtomicInteger IDS = new AtomicInteger();

  /** Per key 3, in total 4, Retry-After 9 s, at a fixed instant. */
  private static AdmissionControl control() {
    return new AdmissionControl(
        TEMPORAL.getWorkflowClient(),
        new LimitSettings(64 << 10, 3, 4, io.dropwizard.util.Duration.seconds(9)),
        Clock.fixed(Instant.parse("2026-12-01T12:00:00Z"), ZoneOffset.UTC));
  }

  private static String start(AdmissionControl c, String key, int slots) {
    return c.admit(key, slots, () -> "wf-" + IDS.incrementAndGet(), id -> id);
  }

  private static SweepSpec sweep(int children, Integer maxConcurrent) {
    List<Integer> r = new java.util.ArrayList<>();
    for (int i = 1; i <= children; i++) {
      r.add(4 * i);
    }
    RunSpec base =
        new RunSpec(
            null,
            "builtin:ecommerce-faq",
            null,
            "smollm2-135m-instruct",
            null,
            null,
            null,
            null,
            null);
    return new SweepSpec(base, new SweepGrid(r, null, null, null), maxConcurrent, null);
  }

  @Test
  void aSweepCountsAsTheRunsItMayHaveAtOnce() {
    assertEquals(2, AdmissionControl.sweepSlots(sweep(4, 2)));
    assertEquals(2, AdmissionControl.sweepSlots(sweep(4, null)), "maxConcurrent defaults to 2");
    assertEquals(3, AdmissionControl.sweepSlots(sweep(3, 8)), "never more than its children");
    assertEquals(1, AdmissionControl.sweepSlots(sweep(1, 4)));
  }

  @Test
  void aSweepThatWouldExceedTheKeysLimitIs429AndLeavesRoomForRuns() {
    AdmissionControl c = control();
    start(c, "alice", 2); // a sweep of maxConcurrent 2
    TooManyRunsException perKey =
        assertThrows(TooManyRunsException.class, () -> start(c, "alice", 2));
    assertEquals(9, perKey.retryAfterSeconds());
    assertTrue(
        perKey.getMessage().contains("'alice' has 2 active or queued runs"), perKey::getMessage);
    assertTrue(perKey.getMessage().contains("counts as 2 runs"), perKey::getMessage);
    // one plain run still fits under the key's 3; then the key is full for runs as well
    start(c, "alice", 1);
    TooManyRunsException full =
        assertThrows(TooManyRunsException.class, () -> start(c, "alice", 1));
    assertTrue(full.getMessage().contains("has 3 active or queued runs"), full::getMessage);
  }

  @Test
  void sweepsCountInTheServiceTotalWhoeverStartedThem() {
    AdmissionControl c = control();
    start(c, "alice", 3); // a sweep: 3 of the total 4
    TooManyRunsException total = assertThrows(TooManyRunsException.class, () -> start(c, "bob", 2));
    assertTrue(
        total.getMessage().contains("the service has 3 active or queued runs"), total::getMessage);
    assertTrue(total.getMessage().contains("the limit is 4"), total::getMessage);
    start(c, "bob", 1); // the last slot is a run's
    assertThrows(TooManyRunsException.class, () -> start(c, "carol", 1));
  }

  @Test
  void aSweepWiderThanTheKeysLimitSaysToLowerMaxConcurrentAndStartsNothing() {
    AdmissionControl c = control();
    AtomicInteger starts = new AtomicInteger();
    TooManyRunsException e =
        assertThrows(
            TooManyRunsException.class,
            () -> c.admit("dave", 4, () -> "wf-" + starts.incrementAndGet(), id -> id));
    assertEquals(0, starts.get());
    assertTrue(
        e.getMessage().contains("Lower the sweep's maxConcurrent to 3 or less"), e::getMessage);
  }
}
