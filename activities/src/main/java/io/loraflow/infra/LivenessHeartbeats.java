package io.loraflow.infra;

import io.loraflow.workflows.ActivityPolicies;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Heartbeats every CPU activity from one timer thread while it runs, so that the CPU activities'
 * heartbeat timeout ({@link ActivityPolicies#CPU_HEARTBEAT_TIMEOUT}) notices a killed CPU worker in
 * seconds; without it an attempt on a dead worker holds its run until the 15 min start-to-close.
 * The activities themselves stay unaware of Temporal. A CPU step is short and has no progress to
 * report, so the heartbeat proves only that its worker lives (the GPU steps, which can hang in a
 * device call, heartbeat on progress instead). The heartbeat carries no details.
 */
public final class LivenessHeartbeats extends WorkerInterceptorBase {
  private static final Logger log = LoggerFactory.getLogger(LivenessHeartbeats.class);

  private final Duration every;
  private final ScheduledExecutorService timer;

  /**
   * @param every heartbeat cadence (the worker's heartbeat throttle must not exceed it)
   */
  public LivenessHeartbeats(Duration every) {
    if (every.isNegative() || every.isZero()) {
      throw new IllegalArgumentException("heartbeat cadence must be positive, got " + every);
    }
    this.every = every;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "cpu-activity-heartbeats");
              t.setDaemon(true);
              return t;
            });
  }

  @Override
  public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
    return new ActivityInboundCallsInterceptorBase(next) {
      private ActivityExecutionContext context;

      @Override
      public void init(ActivityExecutionContext context) {
        this.context = context;
        super.init(context);
      }

      @Override
      public ActivityOutput execute(ActivityInput input) {
        ActivityExecutionContext c = context;
        ScheduledFuture<?> beat =
            timer.scheduleAtFixedRate(() -> beat(c), 0, every.toMillis(), TimeUnit.MILLISECONDS);
        try {
          return super.execute(input);
        } finally {
          beat.cancel(false);
        }
      }
    };
  }

  private static void beat(ActivityExecutionContext c) {
    try {
      c.heartbeat(null);
    } catch (ActivityCompletionException e) {
      // cancelled or timed out server side: the attempt's result will be refused; the activity
      // itself ends on its own (CPU steps are short)
      log.debug("activity {}: heartbeat refused: {}", c.getInfo().getActivityId(), e.toString());
      throw e; // ends this periodic task
    } catch (RuntimeException e) {
      log.warn("activity {}: heartbeat failed: {}", c.getInfo().getActivityId(), e.toString());
    }
  }
}
