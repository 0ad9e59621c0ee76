package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ProgressSnapshotsTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void prefersTheEtaTheRunReportsOverItsOwnEstimate() {
    ProgressSnapshots s = new ProgressSnapshots();
    s.of(new Progress(Phase.TRAINING, 10, 100, 2.0, 500.0, null, ""), T0);
    ProgressLine.Snapshot own =
        s.of(new Progress(Phase.TRAINING, 20, 100, 1.9, 500.0, null, ""), T0.plusSeconds(10));
    assertEquals(Duration.ofSeconds(80), own.eta()); // 1 s/step, 80 steps left
    ProgressLine.Snapshot reported =
        s.of(new Progress(Phase.TRAINING, 30, 100, 1.8, 500.0, 42L, ""), T0.plusSeconds(20));
    assertEquals(Duration.ofSeconds(42), reported.eta());
    assertEquals("train", reported.phase());
    assertEquals(1.8, reported.loss());
  }
}
