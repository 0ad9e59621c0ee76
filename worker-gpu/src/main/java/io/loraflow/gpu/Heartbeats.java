package io.loraflow.gpu;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Heartbeats an activity from a timer thread every {@code every}, with the latest details, so a
 * long training step or upload never starves the heartbeat. When Temporal answers a heartbeat with
 * a cancellation (or the activity timed out server side), {@code onCancel} runs once and the
 * exception is kept for the activity to rethrow.
 */
final class Heartbeats implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Heartbeats.class);

  private final ActivityExecutionContext context;
  private final Supplier<Object> details;
  private final Runnable onCancel;
  private final ScheduledExecutorService timer;
  private final AtomicReference<ActivityCompletionException> cancelled = new AtomicReference<>();

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
    timer.scheduleAtFixedRate(this::beat, 0, every.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Heartbeats now (e.g. right after a checkpoint, so its key is recorded at once). */
  void beat() {
    if (cancelled.get() != null) {
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
  java.util.Optional<ActivityCompletionException> interruption() {
    return java.util.Optional.ofNullable(cancelled.get());
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
    timer.shutdownNow();
  }
}
