package io.loraflow.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The TryAdapter workflow on Temporal's test server: its one activity runs on the GPU queue, a
 * silent GPU worker fails it on the heartbeat timeout (after one retry), bad input is not retried,
 * a transient failure is retried once, and with no GPU worker polling the try fails on its
 * schedule-to-start bound (not before it, without a retry; a 3 s bound stands in for the workers' 2
 * minutes because the test server cannot skip time while an activity task waits).
 */
class TryAdapterWorkflowTest {

  private static final BaseModelRef MODEL =
      new BaseModelRef(
          "tiny-llama-random",
          "tiny-llama-random",
          "models/tiny-llama-random/",
          "models/tiny-llama-random/tokenizer.json",
          null,
          List.of(2),
          "llama");
  private static final TryRequest REQUEST =
      new TryRequest(
          "finetune-a",
          MODEL,
          "runs/finetune-a/adapter/",
          "<human>: hi\n<assistant>:",
          16,
          0,
          42,
          "auto");

  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private final AtomicInteger attempts = new AtomicInteger();

  /** What the fake GPU activity does on each attempt. */
  private volatile Function<TryRequest, TryResult> behaviour;

  /** A GPU worker whose generate does {@link #behaviour}. */
  public class FakeGpu implements GpuActivities {
    @Override
    public BaseModelRef prepareBaseModel(BaseModelRequest request) {
      throw new UnsupportedOperationException();
    }

    @Override
    public TrainResult train(TrainRequest request) {
      throw new UnsupportedOperationException();
    }

    @Override
    public EvalResult evaluate(EvalRequest request) {
      throw new UnsupportedOperationException();
    }

    @Override
    public TryResult generate(TryRequest request) {
      attempts.incrementAndGet();
      return behaviour.apply(request);
    }
  }

  @BeforeEach
  void setUp() {
    env = TestWorkflowEnvironment.newInstance();
    client = env.getWorkflowClient();
    Worker cpu = env.newWorker(TaskQueues.CPU);
    cpu.registerWorkflowImplementationTypes(TryAdapterWorkflowImpl.class);
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  private void startGpuWorker() {
    env.newWorker(TaskQueues.GPU).registerActivitiesImplementations(new FakeGpu());
  }

  private TryAdapterWorkflow newTry() {
    return client.newWorkflowStub(
        TryAdapterWorkflow.class,
        WorkflowOptions.newBuilder()
            .setTaskQueue(TaskQueues.CPU)
            .setWorkflowId("try-test-" + System.nanoTime())
            .build());
  }

  /** The activity failure under the workflow failure. */
  private static ActivityFailure activityFailure(WorkflowFailedException e) {
    return assertInstanceOf(ActivityFailure.class, e.getCause());
  }

  @Test
  void theAnswerComesFromTheGpuQueueUnchanged() {
    startGpuWorker();
    TryResult answer = new TryResult("Three days.", 9, 4, true, 0.5);
    behaviour = req -> req.equals(REQUEST) ? answer : null;
    env.start();
    assertEquals(answer, newTry().run(REQUEST));
    assertEquals(1, attempts.get());
  }

  @Test
  void aGpuWorkerThatStopsHeartbeatingFailsTheTryOnTheHeartbeatTimeout() {
    startGpuWorker();
    behaviour =
        req -> {
          try {
            Thread.sleep(Duration.ofSeconds(20).toMillis()); // silent for > 15 s
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return new TryResult("late", 1, 1, true, 20);
        };
    env.start();
    WorkflowFailedException e =
        assertThrows(WorkflowFailedException.class, () -> newTry().run(REQUEST));
    TimeoutFailure t = assertInstanceOf(TimeoutFailure.class, activityFailure(e).getCause());
    assertEquals(TimeoutType.TIMEOUT_TYPE_HEARTBEAT, t.getTimeoutType());
    assertEquals(2, attempts.get(), "a lost worker is retried once, then the try fails");
  }

  @Test
  void withNoGpuWorkerTheTryFailsOnItsScheduleToStartBoundAndNotBefore() throws Exception {
    // the test server cannot skip time while an activity task waits: a 3 s bound stands for 2 min
    Duration bound = Duration.ofSeconds(3);
    env.close();
    env = TestWorkflowEnvironment.newInstance();
    client = env.getWorkflowClient();
    env.newWorker(TaskQueues.CPU)
        .registerWorkflowImplementationFactory(
            TryAdapterWorkflow.class, () -> new TryAdapterWorkflowImpl(bound));
    env.start(); // nobody polls the GPU queue
    TryAdapterWorkflow workflow = newTry();
    long started = System.nanoTime();
    io.temporal.api.common.v1.WorkflowExecution execution =
        WorkflowClient.start(workflow::run, REQUEST);
    Thread.sleep(bound.toMillis() / 3);
    assertEquals(
        io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
        status(execution),
        "still waiting for a GPU worker before the bound");
    WorkflowFailedException e =
        assertThrows(
            WorkflowFailedException.class,
            () ->
                io.temporal.client.WorkflowStub.fromTyped(workflow)
                    .getResult(30, java.util.concurrent.TimeUnit.SECONDS, TryResult.class));
    Duration waited = Duration.ofNanos(System.nanoTime() - started);
    TimeoutFailure t = assertInstanceOf(TimeoutFailure.class, activityFailure(e).getCause());
    assertEquals(TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START, t.getTimeoutType());
    org.junit.jupiter.api.Assertions.assertTrue(
        waited.compareTo(bound) >= 0 && waited.compareTo(bound.multipliedBy(5)) < 0,
        "failed after " + waited.toMillis() + " ms, bound " + bound.toMillis() + " ms");
    assertEquals(0, attempts.get(), "no worker ever ran it");
    assertEquals(
        Duration.ofMinutes(2),
        TryAdapterWorkflowImpl.SCHEDULE_TO_START,
        "the bound the workers use (README, AdapterTrials' 503 message)");
  }

  private io.temporal.api.enums.v1.WorkflowExecutionStatus status(
      io.temporal.api.common.v1.WorkflowExecution execution) {
    return client
        .getWorkflowServiceStubs()
        .blockingStub()
        .describeWorkflowExecution(
            io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest.newBuilder()
                .setNamespace(client.getOptions().getNamespace())
                .setExecution(execution)
                .build())
        .getWorkflowExecutionInfo()
        .getStatus();
  }

  @Test
  void badInputIsNotRetriedAndKeepsItsTypeAndMessage() {
    startGpuWorker();
    behaviour =
        req -> {
          throw ApplicationFailure.newNonRetryableFailure(
              "maxNewTokens 900 is outside [1, 512]", FailureTypes.INVALID_RUN_SPEC);
        };
    env.start();
    WorkflowFailedException e =
        assertThrows(WorkflowFailedException.class, () -> newTry().run(REQUEST));
    ApplicationFailure f =
        assertInstanceOf(ApplicationFailure.class, activityFailure(e).getCause());
    assertEquals(FailureTypes.INVALID_RUN_SPEC, f.getType());
    assertEquals("maxNewTokens 900 is outside [1, 512]", f.getOriginalMessage());
    assertEquals(1, attempts.get());
  }

  @Test
  void aTransientFailureIsRetriedOnce() {
    startGpuWorker();
    behaviour =
        req -> {
          if (attempts.get() == 1) {
            throw new IllegalStateException("CUDA error: out of memory");
          }
          return new TryResult("second time", 9, 2, true, 0.1);
        };
    env.start();
    assertEquals("second time", newTry().run(REQUEST).answer());
    assertEquals(2, attempts.get());

    attempts.set(0);
    behaviour =
        req -> {
          throw new IllegalStateException("CUDA error: device lost");
        };
    WorkflowFailedException e =
        assertThrows(WorkflowFailedException.class, () -> newTry().run(REQUEST));
    ApplicationFailure f =
        assertInstanceOf(ApplicationFailure.class, activityFailure(e).getCause());
    assertEquals("CUDA error: device lost", f.getOriginalMessage());
    assertEquals(2, attempts.get(), "at most two attempts");
  }
}
