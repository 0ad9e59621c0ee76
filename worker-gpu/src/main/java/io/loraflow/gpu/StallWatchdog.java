package io.loraflow.gpu;

import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Liveness = progress: training is alive while optimizer steps keep completing. The window for the
 * next step is {@code max(floor, factor x slowest recent step)}, so a 40 ms step and a 40 s step
 * are both judged by their own pace; before the first step of an attempt (warm-up, lazy kernel
 * loading) the window is {@code firstStep}, and the first step's time is not part of the pace
 * (until the second step the window is {@code min(firstStep, max(floor, factor x first step))}).
 * While a checkpoint is written the watchdog is paused: an upload has its own timeouts and is not a
 * step.
 *
 * <p>Thread-safe: the training thread calls {@link #stepDone()} and {@link #paused}, the heartbeat
 * thread calls {@link #stalled()}. Pure apart from the clock, which tests pass in.
 */
final class StallWatchdog {

  /** How many recent step times the window looks at (a slow phase of the data ages out). */
  static final int RECENT = 32;

  private final long floorNanos;
  private final double factor;
  private final long firstStepNanos;
  private final LongSupplier clock;
  private final long[] recent = new long[RECENT];
  private int recorded;
  private long lastProgressAt;
  private int pauses;
  private boolean armed;
  private long lastStep = -1;
  private long firstStepTook = -1; // the attempt's first step (warm-up), not part of the pace

  /**
   * @param stall floor (the shortest window), factor (the window in units of the slowest recent
   *     step), firstStep (the window before the attempt's first step completes)
   * @param clock nanoseconds, monotonic ({@code System::nanoTime})
   */
  StallWatchdog(GpuSettings.Stall stall, LongSupplier clock) {
    this.floorNanos = stall.floor().toNanos();
    this.factor = stall.factor();
    this.firstStepNanos = stall.firstStep().toNanos();
    this.clock = clock;
  }

  /** Training starts now, after step {@code fromStep} (the first step's window begins). */
  synchronized void arm(long fromStep) {
    armed = true;
    lastStep = fromStep;
    firstStepTook = -1;
    lastProgressAt = clock.getAsLong();
  }

  /**
   * What the watchdog saw when it gave up.
   *
   * @param quiet time since the last step (or since training started)
   * @param window the window it exceeded
   * @param lastStep the last optimizer step seen, or -1 before the first
   */
  record Stall(Duration quiet, Duration window, long lastStep) {}

  /** Optimizer step {@code step} completed. */
  synchronized void stepDone(long step) {
    lastStep = step;
    long now = clock.getAsLong();
    if (armed && pauses == 0) {
      if (firstStepTook < 0) {
        firstStepTook = now - lastProgressAt;
      } else {
        recent[recorded % RECENT] = now - lastProgressAt;
        recorded++;
      }
    }
    armed = true;
    lastProgressAt = now;
  }

  /**
   * Runs {@code work} (a checkpoint upload) with the watchdog paused; the window restarts after.
   */
  <T extends Exception> void paused(ThrowingRunnable<T> work) throws T {
    synchronized (this) {
      pauses++;
    }
    try {
      work.run();
    } finally {
      synchronized (this) {
        pauses--;
        lastProgressAt = clock.getAsLong();
      }
    }
  }

  interface ThrowingRunnable<T extends Exception> {
    void run() throws T;
  }

  /** The current window: how long the next step may take. */
  synchronized Duration window() {
    if (recorded == 0) {
      // before the second step: the first step's time (with its warm-up) is all there is
      return Duration.ofNanos(
          firstStepTook < 0
              ? firstStepNanos
              : Math.min(firstStepNanos, Math.max(floorNanos, (long) (factor * firstStepTook))));
    }
    long slowest = 0;
    for (int i = 0; i < Math.min(recorded, RECENT); i++) {
      slowest = Math.max(slowest, recent[i]);
    }
    return Duration.ofNanos(
        Math.max(floorNanos, (long) Math.min(Long.MAX_VALUE, factor * slowest)));
  }

  /** How long training has gone without a step, when that is longer than the window. */
  synchronized Optional<Stall> stalled() {
    if (!armed || pauses > 0) {
      return Optional.empty();
    }
    long quiet = clock.getAsLong() - lastProgressAt;
    Duration window = window();
    return quiet > window.toNanos()
        ? Optional.of(new Stall(Duration.ofNanos(quiet), window, lastStep))
        : Optional.empty();
  }

  /** Steps observed so far (for messages). */
  synchronized int stepsObserved() {
    return recorded;
  }
}
