package io.loraflow.engine.train;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The step metrics of a run in memory that does not grow with its length: exact counters over every
 * step (steps, skipped steps, tokens/s sum, peak memory), the newest {@link #RECENT} steps, and a
 * loss curve thinned to at most {@link #CURVE_POINTS} points (a point every {@code stride} steps;
 * the stride doubles whenever the curve fills up). A 20,000-step run holds the same few hundred
 * entries as a 200-step one, in the trainer and in every checkpoint.
 *
 * <p>Deterministic: the whole state is in {@link #snapshot()} and a checkpoint restores it exactly,
 * so a resumed run reports the same totals and curve as an uninterrupted one.
 */
public final class StepHistory {
  /** Newest steps kept in full (the checkpoint's {@code history} field). */
  public static final int RECENT = 256;

  /** Most points of the loss curve; thinning halves it to about half of this. */
  public static final int CURVE_POINTS = 512;

  /** One point of the loss curve: optimizer step (1-based) and its mean token loss. */
  public record LossPoint(long step, double loss) {}

  /**
   * The counters and the thinned curve (JSON in a checkpoint's state file).
   *
   * @param recorded steps recorded in all (resumed ones included)
   * @param skipped steps whose update was skipped for non-finite gradients
   * @param tokensPerSecondSum sum of the finite tokens/s of all steps
   * @param tokensPerSecondSteps how many steps that sum holds
   * @param peakMemoryBytes largest memoryBytes of any step, -1 when none was known
   * @param curveStride the curve keeps the steps that are multiples of this (a power of two)
   * @param curve the kept points, oldest first
   */
  public record Totals(
      long recorded,
      long skipped,
      double tokensPerSecondSum,
      long tokensPerSecondSteps,
      long peakMemoryBytes,
      long curveStride,
      List<LossPoint> curve) {}

  /**
   * What a run reports at its end.
   *
   * @param totals counters and curve over every step
   * @param recent the newest steps (at most {@link #RECENT}), oldest first
   */
  public record Snapshot(Totals totals, List<StepMetrics> recent) {
    /** The newest step, or null before the first. */
    public StepMetrics last() {
      return recent.isEmpty() ? null : recent.get(recent.size() - 1);
    }

    /** Mean of the finite tokens/s over every step. */
    public OptionalDouble meanTokensPerSecond() {
      return totals.tokensPerSecondSteps() == 0
          ? OptionalDouble.empty()
          : OptionalDouble.of(totals.tokensPerSecondSum() / totals.tokensPerSecondSteps());
    }

    /** The thinned loss curve, ending at the newest step. */
    public List<LossPoint> curve() {
      List<LossPoint> out = new ArrayList<>(totals.curve());
      StepMetrics last = last();
      if (last != null && (out.isEmpty() || out.get(out.size() - 1).step() != last.step())) {
        out.add(new LossPoint(last.step(), last.loss()));
      }
      return out;
    }
  }

  private final ArrayDeque<StepMetrics> recent = new ArrayDeque<>();
  private final List<LossPoint> curve = new ArrayList<>();
  private long recorded;
  private long skipped;
  private double tokensPerSecondSum;
  private long tokensPerSecondSteps;
  private long peakMemoryBytes = -1;
  private long curveStride = 1;

  public StepHistory() {}

  /**
   * The history a checkpoint saved: {@code totals} and {@code recent} as written, or, for a
   * checkpoint older than the totals (null) that kept every step in {@code recent}, those steps
   * replayed.
   */
  static StepHistory restore(Totals totals, List<StepMetrics> recent) {
    StepHistory h = new StepHistory();
    if (totals == null) {
      recent.forEach(h::add);
      return h;
    }
    if (recent.size() > RECENT || totals.curve().size() > CURVE_POINTS) {
      throw new IllegalArgumentException(
          "checkpoint step history holds "
              + recent.size()
              + " steps and "
              + totals.curve().size()
              + " curve points; at most "
              + RECENT
              + " and "
              + CURVE_POINTS);
    }
    h.recent.addAll(recent);
    h.curve.addAll(totals.curve());
    h.recorded = totals.recorded();
    h.skipped = totals.skipped();
    h.tokensPerSecondSum = totals.tokensPerSecondSum();
    h.tokensPerSecondSteps = totals.tokensPerSecondSteps();
    h.peakMemoryBytes = totals.peakMemoryBytes();
    h.curveStride = Math.max(1, totals.curveStride());
    return h;
  }

  public void add(StepMetrics m) {
    recorded++;
    if (m.skipped()) {
      skipped++;
    }
    if (Double.isFinite(m.tokensPerSecond())) {
      tokensPerSecondSum += m.tokensPerSecond();
      tokensPerSecondSteps++;
    }
    peakMemoryBytes = Math.max(peakMemoryBytes, m.memoryBytes());
    recent.addLast(m);
    if (recent.size() > RECENT) {
      recent.removeFirst();
    }
    if (m.step() % curveStride == 0) {
      curve.add(new LossPoint(m.step(), m.loss()));
      if (curve.size() > CURVE_POINTS) {
        curveStride *= 2;
        long stride = curveStride;
        curve.removeIf(p -> p.step() % stride != 0);
      }
    }
  }

  /** Steps recorded whose update was skipped (they do not count for Adam's bias correction). */
  public long skipped() {
    return skipped;
  }

  /** Steps recorded in all. */
  public long recorded() {
    return recorded;
  }

  public Totals totals() {
    return new Totals(
        recorded,
        skipped,
        tokensPerSecondSum,
        tokensPerSecondSteps,
        peakMemoryBytes,
        curveStride,
        List.copyOf(curve));
  }

  public List<StepMetrics> recent() {
    return List.copyOf(recent);
  }

  public Snapshot snapshot() {
    return new Snapshot(totals(), recent());
  }
}
