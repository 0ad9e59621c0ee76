package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class StallWatchdogTest {
  final AtomicLong now = new AtomicLong();

  StallWatchdog watchdog(long floorS, double factor, long firstStepS) {
    return new StallWatchdog(
        new GpuSettings.Stall(Duration.ofSeconds(floorS), factor, Duration.ofSeconds(firstStepS)),
        now::get);
  }

  void advance(double seconds) {
    now.addAndGet((long) (seconds * 1e9));
  }

  @Test
  void theFirstStepGetsItsOwnWindowThenTheStepTimeDecides() {
    StallWatchdog w = watchdog(10, 5, 300);
    assertTrue(w.stalled().isEmpty(), "not armed: model loading is not judged");
    advance(1000);
    assertTrue(w.stalled().isEmpty());
    w.arm(0);
    advance(299);
    assertTrue(w.stalled().isEmpty(), "first step may take up to 300 s");
    advance(2);
    assertEquals(301, w.stalled().orElseThrow().quiet().toSeconds());
    w.stepDone(1); // a 301 s first step: warm-up, not a measure of the pace
    assertEquals(300, w.window().toSeconds(), "until the second step: min(first step, 5 x 301 s)");
    for (int i = 2; i <= 5; i++) {
      advance(4); // 4 s steps -> window max(10, 5 x 4) = 20 s
      w.stepDone(i);
    }
    assertEquals(Duration.ofSeconds(20), w.window().minusNanos(w.window().getNano()));
    advance(19);
    assertTrue(w.stalled().isEmpty());
    advance(2);
    StallWatchdog.Stall s = w.stalled().orElseThrow();
    assertEquals(5, s.lastStep());
    assertEquals(20, s.window().toSeconds());
  }

  @Test
  void theFloorHoldsForFastStepsAndOldSlowStepsAgeOut() {
    StallWatchdog w = watchdog(10, 5, 60);
    w.arm(0);
    advance(1);
    w.stepDone(1);
    advance(30); // slow step: window 150 s
    w.stepDone(2);
    assertEquals(150, w.window().toSeconds());
    for (int i = 0; i < StallWatchdog.RECENT; i++) {
      advance(0.01);
      w.stepDone(3 + i);
    }
    assertEquals(10, w.window().toSeconds(), "10 ms steps: the floor");
    advance(10.5);
    assertTrue(w.stalled().isPresent());
  }

  @Test
  void aCheckpointUploadIsNotAStall() throws Exception {
    StallWatchdog w = watchdog(10, 5, 60);
    w.arm(0);
    advance(1);
    w.stepDone(1);
    advance(1);
    w.stepDone(2);
    w.paused(
        () -> {
          advance(600); // a 10-minute upload
          assertTrue(w.stalled().isEmpty());
        });
    assertTrue(w.stalled().isEmpty(), "the window restarts after the upload");
    advance(11);
    assertTrue(w.stalled().isPresent());
  }

  @Test
  void settingsAreValidated() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new GpuSettings.Stall(Duration.ZERO, 10, Duration.ofSeconds(60)));
    assertThrows(
        IllegalArgumentException.class,
        () -> new GpuSettings.Stall(Duration.ofSeconds(10), 0.5, Duration.ofSeconds(60)));
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new GpuSettings.Stall(Duration.ofSeconds(120), 10, Duration.ofSeconds(60)));
    assertTrue(e.getMessage().contains("LORAFLOW_STALL_FIRST_STEP_SECONDS"), e.getMessage());
    var hb =
        assertThrows(
            IllegalArgumentException.class,
            () -> GpuSettings.load(java.util.Map.of("LORAFLOW_HEARTBEAT_SECONDS", "10")));
    assertTrue(hb.getMessage().contains("half the heartbeat timeout"), hb.getMessage());
  }
}
