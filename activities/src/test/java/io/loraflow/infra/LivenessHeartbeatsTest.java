package io.loraflow.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * An activity that never heartbeats itself outlives a short heartbeat timeout only with the CPU
 * worker's interceptor: the timer's heartbeats are what the server sees.
 */
class LivenessHeartbeatsTest {
  static final Duration TIMEOUT = Duration.ofSeconds(2);

  @ActivityInterface
  public interface Slow {
    String work(int millis);
  }

  public static class SlowImpl implements Slow {
    @Override
    public String work(int millis) {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      return "done after " + millis + " ms";
    }
  }

  @WorkflowInterface
  public interface Caller {
    @WorkflowMethod
    String call(int millis);
  }

  public static class CallerImpl implements Caller {
    private final Slow slow =
        Workflow.newActivityStub(
            Slow.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(1))
                .setHeartbeatTimeout(TIMEOUT)
                .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
                .build());

    @Override
    public String call(int millis) {
      return slow.work(millis);
    }
  }

  static String run(WorkerFactoryOptions factory) {
    try (TestWorkflowEnvironment env =
        TestWorkflowEnvironment.newInstance(
            TestEnvironmentOptions.newBuilder().setWorkerFactoryOptions(factory).build())) {
      Worker w =
          env.newWorker(
              "q",
              WorkerOptions.newBuilder()
                  .setMaxHeartbeatThrottleInterval(Duration.ofMillis(500))
                  .setDefaultHeartbeatThrottleInterval(Duration.ofMillis(500))
                  .build());
      w.registerWorkflowImplementationTypes(CallerImpl.class);
      w.registerActivitiesImplementations(new SlowImpl());
      env.start();
      Caller c =
          env.getWorkflowClient()
              .newWorkflowStub(
                  Caller.class, WorkflowOptions.newBuilder().setTaskQueue("q").build());
      return c.call((int) TIMEOUT.multipliedBy(3).toMillis());
    }
  }

  @Test
  void aSilentActivityTimesOutWithoutTheInterceptor() {
    WorkflowFailedException e =
        assertThrows(
            WorkflowFailedException.class, () -> run(WorkerFactoryOptions.getDefaultInstance()));
    ActivityFailure a = assertInstanceOf(ActivityFailure.class, e.getCause());
    TimeoutFailure t = assertInstanceOf(TimeoutFailure.class, a.getCause());
    assertEquals(io.temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT, t.getTimeoutType());
  }

  @Test
  void theInterceptorKeepsItAliveUntilItReturns() {
    String out =
        run(
            WorkerFactoryOptions.newBuilder()
                .setWorkerInterceptors(new LivenessHeartbeats(Duration.ofMillis(300)))
                .build());
    assertEquals("done after 6000 ms", out);
  }

  @Test
  void aNonPositiveCadenceIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new LivenessHeartbeats(Duration.ZERO));
  }
}
