package io.loraflow.api.core;

import io.loraflow.activities.prompts.PromptTemplate;
import io.loraflow.api.api.RunView;
import io.loraflow.api.api.TryAdapterRequest;
import io.loraflow.api.api.TryAdapterResponse;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.TaskQueues;
import io.loraflow.workflows.TryAdapterWorkflow;
import io.loraflow.workflows.TryAdapterWorkflowImpl;
import io.loraflow.workflows.TryRequest;
import io.loraflow.workflows.TryResult;
import io.temporal.api.enums.v1.TaskQueueType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.DescribeTaskQueueRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TimeoutFailure;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Try an adapter on a prompt: resolves the adapter (run id or registered version) to its completed
 * run, puts the prompt into that run's template, and runs the TryAdapter workflow, whose one
 * activity generates on the GPU queue. Waits at most {@link #WAIT}; a missing worker is said at
 * once.
 */
public final class AdapterTrials {

  /** Longest a caller waits for an answer. */
  public static final Duration WAIT = Duration.ofMinutes(3);

  /** Bounds of a try request (the OpenAPI document's TryAdapterRequest states the same). */
  public static final int MAX_ADAPTER_CHARS = 300;

  public static final int MAX_PROMPT_CHARS = 4000;
  public static final int MAX_NEW_TOKENS = 512;
  public static final double MAX_TEMPERATURE = 2.0;

  private final RunService runs;
  private final AdapterCatalog adapters;

  public AdapterTrials(RunService runs, AdapterCatalog adapters) {
    this.runs = runs;
    this.adapters = adapters;
  }

  /**
   * @throws RunConflictException when the run has not completed (no adapter yet)
   * @throws UpstreamException 503 when no worker polls the queues or no answer came in time
   */
  public TryAdapterResponse tryAdapter(TryAdapterRequest request) {
    String adapter = request.adapter().strip();
    String runId =
        adapter.contains("/") || adapter.contains("@")
            ? adapters.workflowIdOf(VersionSelector.parse(adapter))
            : adapter;
    RunView view = runs.describe(runId);
    FineTuneResult result = view.result();
    if (result == null
        || result.model() == null
        || result.train() == null
        || result.train().adapterKey() == null) {
      throw new RunConflictException(
          "run '"
              + runId
              + "' is "
              + view.status()
              + " and has no adapter; try a COMPLETED run or a registered version");
    }
    String prompt =
        PromptTemplate.resolve(result.spec().template(), result.model().chatTemplate())
            .prompt(request.prompt());
    WorkflowClient client = runs.client();
    requirePollers(client, TaskQueues.CPU, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, "cpu");
    requirePollers(client, TaskQueues.GPU, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, "gpu");
    String tryId = "try-" + UUID.randomUUID();
    TryAdapterWorkflow workflow =
        client.newWorkflowStub(
            TryAdapterWorkflow.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(tryId)
                .setTaskQueue(TaskQueues.CPU)
                .setWorkflowExecutionTimeout(Duration.ofMinutes(15))
                .build());
    WorkflowClient.start(
        workflow::run,
        new TryRequest(
            runId,
            result.model(),
            result.train().adapterKey(),
            prompt,
            request.maxNewTokens(),
            request.temperature(),
            request.seed(),
            result.spec().training().precision()));
    WorkflowStub stub = WorkflowStub.fromTyped(workflow);
    TryResult answer;
    try {
      answer = stub.getResult(WAIT.toSeconds(), TimeUnit.SECONDS, TryResult.class);
    } catch (TimeoutException e) {
      stub.terminate("no answer within " + WAIT.toSeconds() + " s");
      throw new UpstreamException(
          503,
          "no GPU worker answered within "
              + WAIT.toSeconds()
              + " s (busy with training?); try again later",
          e);
    } catch (WorkflowFailedException e) {
      throw failed(runId, e);
    }
    return new TryAdapterResponse(
        runId,
        result.model().baseModel(),
        prompt,
        answer.answer(),
        answer.promptTokens(),
        answer.newTokens(),
        answer.stoppedAtEos(),
        answer.seconds(),
        tryId);
  }

  /**
   * The failed TryAdapter workflow as the caller's error: 503 when no GPU worker took the try in
   * time or a worker cannot generate (try later / update the worker), 502 otherwise, with the
   * activity's own message (never a stack trace).
   */
  static UpstreamException failed(String runId, WorkflowFailedException e) {
    Throwable cause = e.getCause();
    while (cause instanceof ActivityFailure && cause.getCause() != null) {
      cause = cause.getCause();
    }
    String prefix = "trying the adapter of " + runId + " failed: ";
    if (cause instanceof TimeoutFailure t) {
      return switch (t.getTimeoutType()) {
        case TIMEOUT_TYPE_SCHEDULE_TO_START ->
            new UpstreamException(
                503,
                "no GPU worker took the try within "
                    + TryAdapterWorkflowImpl.SCHEDULE_TO_START.toSeconds()
                    + " s (all busy training?); try again later",
                e);
        case TIMEOUT_TYPE_HEARTBEAT ->
            new UpstreamException(
                502,
                prefix + "the GPU worker stopped heartbeating (crashed or lost); try again",
                e);
        default ->
            new UpstreamException(
                502,
                prefix + "no answer within the activity's time limit (" + t.getTimeoutType() + ")",
                e);
      };
    }
    if (cause instanceof ApplicationFailure af) {
      if ("Unsupported".equals(af.getType())) {
        return new UpstreamException(
            503, "the GPU worker cannot generate: " + af.getOriginalMessage(), e);
      }
      return new UpstreamException(502, prefix + af.getOriginalMessage(), e);
    }
    return new UpstreamException(
        502, prefix + (cause == null ? "unknown failure" : cause.getClass().getSimpleName()), e);
  }

  private static void requirePollers(
      WorkflowClient client, String queue, TaskQueueType type, String worker) {
    int pollers;
    try {
      pollers =
          client
              .getWorkflowServiceStubs()
              .blockingStub()
              .withDeadlineAfter(5, TimeUnit.SECONDS)
              .describeTaskQueue(
                  DescribeTaskQueueRequest.newBuilder()
                      .setNamespace(client.getOptions().getNamespace())
                      .setTaskQueue(TaskQueue.newBuilder().setName(queue).build())
                      .setTaskQueueType(type)
                      .build())
              .getPollersCount();
    } catch (RuntimeException e) {
      return; // cannot tell: the bounded wait decides
    }
    if (pollers == 0) {
      throw new UpstreamException(
          503,
          "no worker polls task queue "
              + queue
              + "; start one with `loraflow worker "
              + worker
              + "`",
          null);
    }
  }
}
