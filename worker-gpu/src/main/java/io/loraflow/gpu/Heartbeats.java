package io.loraflow.gpu;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Heartbeats an activity from a timer thread every {@code every}, with the latest details, so a
 * long training step or upload never starves the heartbeat. When Temporal answers a heartbeat with
 * a cancellation (or the activity timed out server side), {@code onCancel} runs once and the
 * exception is kept for the activity to rethrow.
 *
 * <p>Liveness: once {@link #watch} gives it a {@link StallWatchdog}, a heartbeat is sent only while
 * training makes progress. When no optimizer step completed within the watchdog's window, the
 * heartbeats stop for good and {@code onStall} runs once (the activity interrupts its training and
 * fails the attempt retryably; if the training thread is wedged in a device call and cannot react,
 * the missing heartbeats make the server fail the attempt after the heartbeat timeout). A timer
 * alone would prove only that the JVM lives.
 */
final class Heartbeats implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Heartbeats.class);

  private final ActivityExecutionContext context;
  private final Supplier<Object> details;
  private final Runnable onCancel;
  private final ScheduledExecutorService timer;
  private final AtomicReference<ActivityCompletionException> cancelled = new AtomicReference<>();
  private final AtomicReference<StallWatchdog.Stall> stalledFor = new AtomicReference<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile StallWatchdog watchdog;
  private volatile Consumer<StallWatchdog.Stall> onStall = d -> {};

  Heartbeats(
      ActivityExecutionContext context,
      Duration every,
      Supplier<Object> details,
      Runnable onCancel) {
    this.context = context;
    this.details = details;
    this.onCancel = onCancel;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "heartbeat-" + context.getInfo().getActivityId());
              t.setDaemon(true);
              return t;
            });
    timer.scheduleAtFixedRate(this::tick, 0, every.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** From now on heartbeats require progress (see the class comment). */
  void watch(StallWatchdog watchdog, Consumer<StallWatchdog.Stall> onStall) {
    this.onStall = onStall;
    this.watchdog = watchdog;
  }

  private void tick() {
    StallWatchdog w = watchdog;
    if (w != null && stalledFor.get() == null) {
      Optional<StallWatchdog.Stall> quiet = w.stalled();
      if (quiet.isPresent() && stalledFor.compareAndSet(null, quiet.get())) {
        log.error(
            "activity {}: no optimizer step for {} s (window {} s): heartbeats stop, the attempt"
                + " fails and is retried from the last checkpoint",
            context.getInfo().getActivityId(),
            quiet.get().quiet().toSeconds(),
            quiet.get().window().toSeconds());
        try {
          onStall.accept(quiet.get());
        } catch (RuntimeException e) {
          log.warn("stall handler failed: {}", e.toString());
        }
      }
    }
    beat();
  }

  /** Heartbeats now (e.g. right after a checkpoint, so its key is recorded at once). */
  void beat() {
    if (cancelled.get() != null || stalledFor.get() != null || closed.get()) {
      return;
    }
    try {
      context.heartbeat(details.get());
    } catch (ActivityCompletionException e) {
      if (cancelled.compareAndSet(null, e)) {
        log.info("activity {} cancelled: {}", context.getInfo().getActivityId(), e.toString());
        onCancel.run();
      }
    } catch (RuntimeException e) {
      log.warn("heartbeat failed: {}", e.toString());
    }
  }

  /**
   * What Temporal answered a heartbeat with instead of accepting it: a cancellation, a server-side
   * timeout, or {@link io.temporal.client.ActivityWorkerShutdownException} (this worker is shutting
   * down).
   */
  Optional<ActivityCompletionException> interruption() {
    return Optional.ofNullable(cancelled.get());
  }

  /** What the watchdog saw when it gave up, if it did. */
  Optional<StallWatchdog.Stall> stall() {
    return Optional.ofNullable(stalledFor.get());
  }

  /** Rethrows the cancellation Temporal delivered, if any. */
  void throwIfCancelled() {
    ActivityCompletionException e = cancelled.get();
    if (e != null) {
      throw e;
    }
  }

  @Override
  public void close() {
    closed.set(true);
    timer.shutdownNow();
  }
}
