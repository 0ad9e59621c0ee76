package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bounded step history against the naive list of every step it replaced. */
class StepHistoryTest {

  /** A made-up step: every 7th skipped, every 11th with unknown tokens/s, memory wandering. */
  static StepMetrics step(long i, long total) {
    boolean skipped = i % 7 == 0;
    return new StepMetrics(
        i,
        total,
        0,
        3.0 / (1 + i * 0.001),
        1e-4,
        skipped ? Double.NaN : 0.5,
        1,
        skipped,
        i % 11 == 0 ? Double.NaN : 100 + (i % 13),
        (i * 7919) % 100_003);
  }

  @Test
  void twentyThousandStepsKeepAFewHundredEntriesAndExactTotals() {
    long total = 20_000;
    StepHistory h = new StepHistory();
    List<StepMetrics> all = new ArrayList<>();
    for (long i = 1; i <= total; i++) {
      StepMetrics m = step(i, total);
      h.add(m);
      all.add(m);
    }
    StepHistory.Snapshot s = h.snapshot();
    assertEquals(total, s.totals().recorded());
    assertEquals(all.stream().filter(StepMetrics::skipped).count(), s.totals().skipped());
    assertEquals(
        all.stream()
            .mapToDouble(StepMetrics::tokensPerSecond)
            .filter(Double::isFinite)
            .average()
            .orElseThrow(),
        s.meanTokensPerSecond().orElseThrow(),
        1e-9);
    assertEquals(
        all.stream().mapToLong(StepMetrics::memoryBytes).max().orElseThrow(),
        s.totals().peakMemoryBytes());
    assertEquals(all.subList(all.size() - StepHistory.RECENT, all.size()), s.recent());
    assertEquals(all.get(all.size() - 1), s.last());

    // the curve: bounded, evenly thinned over the whole run, ending at the last step
    List<StepHistory.LossPoint> curve = s.curve();
    assertTrue(curve.size() <= StepHistory.CURVE_POINTS + 1, "curve points " + curve.size());
    assertTrue(curve.size() >= StepHistory.CURVE_POINTS / 2, "curve points " + curve.size());
    long stride = s.totals().curveStride();
    assertEquals(stride, curve.get(0).step(), "the curve starts at the first kept step");
    for (StepHistory.LossPoint p : curve.subList(0, curve.size() - 1)) {
      assertEquals(0, p.step() % stride, "step " + p.step() + " stride " + stride);
      assertEquals(all.get((int) p.step() - 1).loss(), p.loss());
    }
    assertEquals(total, curve.get(curve.size() - 1).step());
  }

  @Test
  void aRestoredHistoryContinuesAsIfNeverInterrupted() {
    long total = 3_000;
    StepHistory straight = new StepHistory();
    StepHistory first = new StepHistory();
    for (long i = 1; i <= total; i++) {
      straight.add(step(i, total));
      if (i <= 1_234) {
        first.add(step(i, total));
      }
    }
    StepHistory resumed = StepHistory.restore(first.totals(), first.recent());
    for (long i = 1_235; i <= total; i++) {
      resumed.add(step(i, total));
    }
    assertEquals(straight.snapshot(), resumed.snapshot());
  }

  @Test
  void aCheckpointWithEveryStepAndNoTotalsIsReplayed() {
    List<StepMetrics> old = new ArrayList<>();
    StepHistory straight = new StepHistory();
    for (long i = 1; i <= 1_000; i++) {
      old.add(step(i, 1_000));
      straight.add(step(i, 1_000));
    }
    assertEquals(straight.snapshot(), StepHistory.restore(null, old).snapshot());
  }

  @Test
  void anOversizedCheckpointHistoryIsRefused() {
    StepHistory h = new StepHistory();
    h.add(step(1, 1));
    List<StepMetrics> tooMany = Collections.nCopies(StepHistory.RECENT + 1, step(1, 1));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> StepHistory.restore(h.totals(), tooMany));
    assertTrue(e.getMessage().contains("at most " + StepHistory.RECENT), e.getMessage());
  }

  @Test
  void anEmptyHistoryHasNoLastStepAndNoMean() {
    StepHistory.Snapshot s = new StepHistory().snapshot();
    assertNull(s.last());
    assertTrue(s.meanTokensPerSecond().isEmpty());
    assertEquals(List.of(), s.curve());
    assertEquals(-1, s.totals().peakMemoryBytes());
  }
}
