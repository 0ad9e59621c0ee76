package io.loraflow.api.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.api.ScriptedGpu;
import io.loraflow.api.TestTemporal;
import io.loraflow.api.api.ErrorBody;
import io.loraflow.api.api.TryAdapterRequest;
import io.loraflow.api.api.TryAdapterResponse;
import io.loraflow.api.resources.ErrorResponses;
import io.loraflow.cli.TryVerbTest;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.TaskQueues;
import io.loraflow.workflows.TryAdapterWorkflow;
import io.loraflow.workflows.TryAdapterWorkflowImpl;
import io.loraflow.workflows.TryRequest;
import io.loraflow.workflows.TryResult;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import jakarta.ws.rs.core.Response;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A try when no GPU worker is free, end to end below HTTP: the real TryAdapter workflow on an
 * in-memory Temporal, one GPU worker with one activity slot that another try holds, and the API's
 * {@link AdapterTrials} plus its error mapper. The waiting try's workflow fails on its
 * schedule-to-start bound (a 3 s bound stands in for the workers' 2 minutes: the test server cannot
 * skip time while an activity task waits), and the caller gets the documented 503 "no GPU worker
 * took the try within 120 s (all busy training?); try again later"; the busy try still answers.
 */
class TryWithoutAFreeGpuWorkerTest {

  static final Duration BOUND = Duration.ofSeconds(3);
  static final String RUN = "finetune-busy-gpu";

  private final CountDownLatch release = new CountDownLatch(1);
  private final CountDownLatch holding = new CountDownLatch(1);
  private TestWorkflowEnvironment env;

  /** A GPU worker whose generate holds its only slot until released (ScriptedGpu otherwise). */
  public class HeldGpu extends ScriptedGpu {
    @Override
    public TryResult generate(TryRequest request) {
      holding.countDown();
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return new TryResult("held answer", 3, 2, true, 0.1);
    }
  }

  @AfterEach
  void stop() {
    release.countDown();
    if (env != null) {
      env.close();
    }
  }

  @Test
  void aTryNoGpuWorkerTakesFailsOnScheduleToStartAndIsA503ThatSaysTryLater() throws Exception {
    env = TestTemporal.unstarted();
    Worker cpu = env.newWorker(TaskQueues.CPU);
    cpu.registerWorkflowImplementationTypes(TryVerbTest.CompletedFineTune.class);
    cpu.registerWorkflowImplementationFactory(
        TryAdapterWorkflow.class, () -> new TryAdapterWorkflowImpl(BOUND));
    env.newWorker(
            TaskQueues.GPU,
            WorkerOptions.newBuilder().setMaxConcurrentActivityExecutionSize(1).build())
        .registerActivitiesImplementations(new HeldGpu());
    env.start();
    var client = env.getWorkflowClient();
    client
        .newWorkflowStub(
            FineTuneWorkflow.class,
            WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId(RUN).build())
        .run(RunSpec.of("builtin:ecommerce-faq", "tiny-llama-random"));
    AdapterTrials trials =
        new AdapterTrials(new RunService(client, TestTemporal.LINKS, Clock.systemUTC()), null);
    TryAdapterRequest ask = new TryAdapterRequest(RUN, "How long is shipping?", 8, null, null);

    CompletableFuture<TryAdapterResponse> first =
        CompletableFuture.supplyAsync(() -> trials.tryAdapter(ask));
    assertTrue(holding.await(30, TimeUnit.SECONDS), "the first try holds the only GPU slot");

    long started = System.nanoTime();
    UpstreamException refused = assertThrows(UpstreamException.class, () -> trials.tryAdapter(ask));
    Duration waited = Duration.ofNanos(System.nanoTime() - started);

    assertEquals(503, refused.status());
    assertEquals(
        "no GPU worker took the try within 120 s (all busy training?); try again later",
        refused.getMessage());
    assertTrue(
        waited.compareTo(BOUND) >= 0 && waited.compareTo(BOUND.multipliedBy(5)) < 0,
        "refused after " + waited.toMillis() + " ms, bound " + BOUND.toMillis() + " ms");
    // underneath: the workflow failed on the schedule-to-start timeout of its one activity
    WorkflowFailedException failure =
        assertInstanceOf(WorkflowFailedException.class, refused.getCause());
    ActivityFailure activity = assertInstanceOf(ActivityFailure.class, failure.getCause());
    assertEquals(
        TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
        assertInstanceOf(TimeoutFailure.class, activity.getCause()).getTimeoutType());
    // and over HTTP: the mapper's status and JSON body
    Response response = new ErrorResponses.Upstream().toResponse(refused);
    assertEquals(503, response.getStatus());
    ErrorBody body = (ErrorBody) response.getEntity();
    assertEquals(refused.getMessage(), body.message());

    release.countDown();
    assertEquals("held answer", first.get(30, TimeUnit.SECONDS).answer());
  }
}
