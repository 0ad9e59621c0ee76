package io.loraflow.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.activity.Activity;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A graceful worker shutdown in the middle of an activity (SIGTERM: WorkerLifecycle shuts the
 * factory down and waits): with {@link WorkerLifecycle#heartbeatUntilActivitiesReturn} the activity
 * keeps heartbeating past several heartbeat timeouts and finishes on its first attempt; without it
 * its next heartbeat throws and the attempt fails.
 */
class ShutdownHeartbeatsTest {
  static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(1);
  static final int FINISH_MILLIS = 3500; // > 3 heartbeat timeouts after the shutdown starts

  static CountDownLatch started;

  @ActivityInterface
  public interface Finishing {
    String finish();
  }

  /**
   * Heartbeats every 100 ms for FINISH_MILLIS, like a train activity writing its last checkpoint.
   */
  public static class FinishingImpl implements Finishing {
    @Override
    public String finish() {
      started.countDown();
      long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FINISH_MILLIS);
      int beats = 0;
      while (System.nanoTime() < end) {
        Activity.getExecutionContext().heartbeat(beats++); // throws when heartbeats are stopped
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      return "attempt " + Activity.getExecutionContext().getInfo().getAttempt() + ", " + beats;
    }
  }

  @WorkflowInterface
  public interface Caller {
    @WorkflowMethod
    String call();
  }

  public static class CallerImpl implements Caller {
    private final Finishing finishing =
        Workflow.newActivityStub(
            Finishing.class,
            ActivityOptions.newBuilder()
                .setTaskQueue("activities")
                .setStartToCloseTimeout(Duration.ofMinutes(1))
                .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
                .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
                .build());

    @Override
    public String call() {
      return finishing.finish();
    }
  }

  /**
   * Runs the workflow; shuts the activity worker down once the activity runs; returns its result.
   */
  static String runWithShutdown(WorkerOptions.Builder activityWorker) throws InterruptedException {
    started = new CountDownLatch(1);
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      env.newWorker("workflows").registerWorkflowImplementationTypes(CallerImpl.class);
      WorkerFactory activities = WorkerFactory.newInstance(env.getWorkflowClient());
      activities
          .newWorker(
              "activities",
              activityWorker
                  .setMaxHeartbeatThrottleInterval(Duration.ofMillis(200))
                  .setDefaultHeartbeatThrottleInterval(Duration.ofMillis(200))
                  .build())
          .registerActivitiesImplementations(new FinishingImpl());
      env.start();
      activities.start();
      Caller c =
          env.getWorkflowClient()
              .newWorkflowStub(
                  Caller.class, WorkflowOptions.newBuilder().setTaskQueue("workflows").build());
      WorkflowClient.start(c::call);
      assertTrue(started.await(30, TimeUnit.SECONDS), "the activity started");
      activities.shutdown(); // what WorkerLifecycle's SIGTERM hook does
      activities.awaitTermination(30, TimeUnit.SECONDS);
      return WorkflowStub.fromTyped(c).getResult(String.class);
    }
  }

  @Test
  void anActivityFinishesThroughAGracefulShutdown() throws Exception {
    String out =
        runWithShutdown(WorkerLifecycle.heartbeatUntilActivitiesReturn(WorkerOptions.newBuilder()));
    assertTrue(out.startsWith("attempt 1, "), out);
    int beats = Integer.parseInt(out.substring("attempt 1, ".length()));
    assertTrue(beats >= 30, "heartbeated all along: " + beats);
  }

  @Test
  void withoutTheOptionTheShutdownStopsItsHeartbeats() {
    assertThrows(WorkflowFailedException.class, () -> runWithShutdown(WorkerOptions.newBuilder()));
  }

  @Test
  void theWorkersUseTheOption() {
    assertEquals(
        true, CpuWorkerLimits.DEFAULT.workerOptions().getAllowActivityHeartbeatDuringShutdown());
  }
}
