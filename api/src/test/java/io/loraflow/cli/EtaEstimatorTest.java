package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class EtaEstimatorTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void firstObservationHasNoEstimate() {
    assertNull(new EtaEstimator().observe("train", 50, 100, T0));
  }

  @Test
  void estimatesFromStepsSeenByThisObserverOnly() {
    EtaEstimator eta = new EtaEstimator();
    eta.observe("train", 50, 100, T0); // attached mid-run: the first 50 steps are not ours
    // 10 steps in 20 s = 2 s/step, 40 steps left = 80 s
    assertEquals(Duration.ofSeconds(80), eta.observe("train", 60, 100, T0.plusSeconds(20)));
  }

  @Test
  void newPhaseOrStepGoingBackRestartsTheMeasurement() {
    EtaEstimator eta = new EtaEstimator();
    eta.observe("train", 0, 100, T0);
    eta.observe("train", 10, 100, T0.plusSeconds(10));
    assertNull(eta.observe("evaluate", 1, 20, T0.plusSeconds(11)));
    assertEquals(Duration.ofSeconds(9), eta.observe("evaluate", 2, 20, T0.plusMillis(11_500)));
    // a retry resumed from an older checkpoint
    assertNull(eta.observe("evaluate", 0, 20, T0.plusSeconds(12)));
  }

  @Test
  void doneIsZeroAndUncountedIsUnknown() {
    EtaEstimator eta = new EtaEstimator();
    eta.observe("train", 0, 10, T0);
    assertEquals(Duration.ZERO, eta.observe("train", 10, 10, T0.plusSeconds(5)));
    EtaEstimator uncounted = new EtaEstimator();
    uncounted.observe("prepare", 0, 0, T0);
    assertNull(uncounted.observe("prepare", 0, 0, T0.plusSeconds(5)));
  }
}
