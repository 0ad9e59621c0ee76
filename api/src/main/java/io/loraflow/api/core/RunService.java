package io.loraflow.api.core;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.loraflow.api.api.RunAccepted;
import io.loraflow.api.api.RunList;
import io.loraflow.api.api.RunSummary;
import io.loraflow.api.api.RunView;
import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.LoraflowSearchAttributes;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.RunLinks;
import io.loraflow.workflows.RunProgress;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.TaskQueues;
import io.loraflow.workflows.WorkflowIds;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.TaskQueueType;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.DescribeTaskQueueRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowExecutionMetadata;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.SearchAttributeKey;
import io.temporal.common.SearchAttributes;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.failure.TerminatedFailure;
import io.temporal.failure.TimeoutFailure;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts, inspects, lists and cancels FineTune runs through a Temporal client. Shared by the REST
 * resources and the command line, so both behave the same.
 */
public final class RunService {

  /** Memo key of a nonce per start request: tells "we started it" from "it already existed". */
  static final String MEMO_REQUEST = "loraflowRequest";

  /** Memo key of the id of the API key that started the run (admission control counts by it). */
  public static final String MEMO_KEY_ID = "loraflowKeyId";

  /** Default bound of one progress query. */
  public static final Duration DEFAULT_QUERY_TIMEOUT = Duration.ofSeconds(3);

  /** Runs progress queries so that a caller waits at most the query timeout (see progress). */
  private static final ExecutorService QUERIES =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "loraflow-progress-query");
            t.setDaemon(true);
            return t;
          });

  private final WorkflowClient client;
  private final LinkSettings links;
  private final Clock clock;
  private final Duration queryTimeout;

  public RunService(WorkflowClient client, LinkSettings links, Clock clock) {
    this(client, links, clock, DEFAULT_QUERY_TIMEOUT);
  }

  public RunService(WorkflowClient client, LinkSettings links, Clock clock, Duration queryTimeout) {
    this.client = client;
    this.links = links;
    this.clock = clock;
    this.queryTimeout = queryTimeout;
  }

  public String namespace() {
    return client.getOptions().getNamespace();
  }

  public WorkflowClient client() {
    return client;
  }

  public LinkSettings links() {
    return links;
  }

  /**
   * Starts a FineTune run on the CPU task queue.
   *
   * <p>With an idempotency key the workflow id is {@code finetune-key-<key>}: a repeat with the
   * same spec returns the existing run ({@code created=false}), a repeat with another spec is a
   * conflict. Without a key the id comes from {@link WorkflowIds#forRun}; a {@code runName} that is
   * taken by a running or completed run is a conflict (a failed one may be started again).
   *
   * @throws InvalidRunSpecException listing every problem of the spec
   * @throws RunConflictException as above
   */
  public RunAccepted start(RunSpec spec, String idempotencyKey) {
    return start(spec, idempotencyKey, "cli");
  }

  /**
   * {@link #start(RunSpec, String)} on behalf of the API key {@code keyId} (kept in the run's memo
   * {@value #MEMO_KEY_ID}).
   */
  public RunAccepted start(RunSpec spec, String idempotencyKey, String keyId) {
    List<String> problems = spec.problems();
    if (!problems.isEmpty()) {
      throw new InvalidRunSpecException(problems);
    }
    boolean keyed = idempotencyKey != null;
    String workflowId =
        keyed
            ? IdempotencyKeys.workflowId(idempotencyKey)
            : WorkflowIds.forRun(spec, clock.instant());
    String fingerprint = SpecFingerprint.of(spec);
    String nonce = UUID.randomUUID().toString();
    WorkflowOptions options =
        WorkflowOptions.newBuilder()
            .setWorkflowId(workflowId)
            .setTaskQueue(TaskQueues.CPU)
            .setWorkflowIdReusePolicy(
                keyed
                    ? WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
                    : WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY)
            .setWorkflowIdConflictPolicy(
                keyed
                    ? WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
                    : WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL)
            .setMemo(
                Map.of(
                    SpecFingerprint.MEMO_KEY,
                    fingerprint,
                    MEMO_REQUEST,
                    nonce,
                    MEMO_KEY_ID,
                    keyId == null ? "cli" : keyId))
            .build();
    try {
      WorkflowClient.start(client.newWorkflowStub(FineTuneWorkflow.class, options)::run, spec);
    } catch (WorkflowExecutionAlreadyStarted e) {
      if (!keyed && spec.runName() == null) {
        // two unnamed starts of the same spec in the same second: keep both, suffix the second
        workflowId = workflowId + "-" + nonce.substring(0, 4);
        WorkflowOptions suffixed =
            WorkflowOptions.newBuilder(options).setWorkflowId(workflowId).build();
        WorkflowClient.start(client.newWorkflowStub(FineTuneWorkflow.class, suffixed)::run, spec);
        return new RunAccepted(workflowId, true, plannedLinks(workflowId));
      }
      if (!keyed) {
        throw new RunConflictException(
            "run '"
                + workflowId
                + "' already exists and did not fail; pick another runName, or send an "
                + IdempotencyKeys.HEADER
                + " header to get the existing run back");
      }
      return existing(workflowId, fingerprint, idempotencyKey);
    }
    if (keyed) {
      // USE_EXISTING returns the running workflow without an error: ours only if our nonce is there
      WorkflowExecutionMetadata started = describeOrThrow(workflowId);
      if (!nonce.equals((String) started.getMemo(MEMO_REQUEST, String.class))) {
        return existing(workflowId, fingerprint, idempotencyKey);
      }
    }
    return new RunAccepted(workflowId, true, plannedLinks(workflowId));
  }

  private RunAccepted existing(String workflowId, String fingerprint, String key) {
    WorkflowExecutionMetadata found = describeOrThrow(workflowId);
    String theirs = (String) found.getMemo(SpecFingerprint.MEMO_KEY, String.class);
    if (!fingerprint.equals(theirs)) {
      throw new RunConflictException(
          IdempotencyKeys.HEADER
              + " '"
              + key
              + "' was already used for run '"
              + workflowId
              + "' with a different run spec; use a new key for a new run");
    }
    return new RunAccepted(workflowId, false, plannedLinks(workflowId));
  }

  /**
   * Status, progress (while running: the workflow's progress query), result or failure.
   *
   * @throws RunNotFoundException when there is no such run
   */
  public RunView describe(String runId) {
    WorkflowExecutionMetadata d = describeOrThrow(runId);
    String status = RunStatus.of(d.getStatus());
    String phase = attribute(d.getTypedSearchAttributes(), LoraflowSearchAttributes.PHASE);
    String start = instant(d.getStartTime());
    String close = instant(d.getCloseTime());
    if (d.getStatus() == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
      try {
        Progress p = progress(runId);
        return new RunView(
            runId, status, p.phase().name(), start, null, p, null, null, null, plannedLinks(runId));
      } catch (RuntimeException e) {
        return new RunView(
            runId,
            status,
            phase,
            start,
            null,
            null,
            "no progress: " + queryProblem(e),
            null,
            null,
            plannedLinks(runId));
      }
    }
    WorkflowStub stub = client.newUntypedWorkflowStub(runId);
    try {
      FineTuneResult result = stub.getResult(5, TimeUnit.SECONDS, FineTuneResult.class);
      return new RunView(
          runId, status, phase, start, close, null, null, result, null, linksOf(runId, result));
    } catch (WorkflowFailedException e) {
      RunView.Failure failure = failureOf(e);
      String shown = FailureTypes.CANCELLED.equals(failure.type()) ? "CANCELLED" : status;
      return new RunView(
          runId, shown, phase, start, close, null, null, null, failure, plannedLinks(runId));
    } catch (TimeoutException e) {
      throw new IllegalStateException("run '" + runId + "' is closed but has no result yet", e);
    }
  }

  /**
   * The workflow's progress query. A query is answered by a CPU worker; without one the SDK keeps
   * retrying for a minute, so this first asks the task queue whether anyone polls it and then waits
   * at most the query timeout.
   *
   * @throws IllegalStateException naming the missing worker or the timeout
   */
  public Progress progress(String runId) {
    if (!cpuWorkerPolling()) {
      throw new IllegalStateException(
          "no CPU worker polls task queue "
              + TaskQueues.CPU
              + " in namespace "
              + namespace()
              + "; start one with `loraflow worker cpu`");
    }
    Future<Progress> answer =
        QUERIES.submit(() -> client.newWorkflowStub(FineTuneWorkflow.class, runId).progress());
    Progress state;
    try {
      state = answer.get(queryTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      answer.cancel(true);
      throw new IllegalStateException(
          "no CPU worker answered the progress query within "
              + queryTimeout.toMillis()
              + " ms; is `loraflow worker cpu` running?");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException re
          ? re
          : new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while querying " + runId, e);
    }
    // a queued run's place comes from the admission gate
    state = RunProgress.withQueuePosition(client, runId, state);
    // step/loss/tokens/s live in the GPU activity's heartbeat details, not in workflow state
    try {
      return RunProgress.merge(
          state,
          RunProgress.pendingActivities(client, runId, queryTimeout),
          client.getOptions().getDataConverter());
    } catch (RuntimeException e) {
      return state; // the phase alone is still right
    }
  }

  private boolean cpuWorkerPolling() {
    try {
      return client
              .getWorkflowServiceStubs()
              .blockingStub()
              .withDeadlineAfter(queryTimeout.toMillis(), TimeUnit.MILLISECONDS)
              .describeTaskQueue(
                  DescribeTaskQueueRequest.newBuilder()
                      .setNamespace(namespace())
                      .setTaskQueue(TaskQueue.newBuilder().setName(TaskQueues.CPU).build())
                      .setTaskQueueType(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
                      .build())
              .getPollersCount()
          > 0;
    } catch (RuntimeException e) {
      return true; // cannot tell (e.g. an older server): let the bounded query decide
    }
  }

  /** Runs matching {@code filter}, newest first (Temporal visibility). */
  public RunList list(RunFilter filter) {
    String query = filter.toQuery();
    List<RunSummary> runs =
        client
            .listExecutions(query)
            .limit(filter.limit())
            .map(
                m ->
                    new RunSummary(
                        m.getExecution().getWorkflowId(),
                        RunStatus.of(m.getStatus()),
                        attribute(m.getTypedSearchAttributes(), LoraflowSearchAttributes.PHASE),
                        attribute(
                            m.getTypedSearchAttributes(), LoraflowSearchAttributes.BASE_MODEL),
                        attribute(m.getTypedSearchAttributes(), LoraflowSearchAttributes.DATASET),
                        instant(m.getStartTime()),
                        instant(m.getCloseTime())))
            .toList();
    return new RunList(runs, query);
  }

  /**
   * Sends the workflow's cancel signal: the running activity is cancelled (a training step
   * checkpoints first) and the run ends as CANCELLED with {@code reason}.
   *
   * @throws RunConflictException when the run is not running
   */
  public void cancel(String runId, String reason) {
    WorkflowExecutionMetadata d = describeOrThrow(runId);
    if (d.getStatus() != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
      throw new RunConflictException(
          "run '"
              + runId
              + "' is "
              + RunStatus.of(d.getStatus())
              + "; only a running run can be cancelled");
    }
    try {
      client.newWorkflowStub(FineTuneWorkflow.class, runId).cancel(reason);
    } catch (RuntimeException e) {
      // the run may have completed between the describe and the signal: that is a conflict
      WorkflowExecutionMetadata now = describeOrThrow(runId);
      if (now.getStatus() != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
        throw new RunConflictException(
            "run '"
                + runId
                + "' ended ("
                + RunStatus.of(now.getStatus())
                + ") before the cancel reached it; only a running run can be cancelled");
      }
      throw e;
    }
  }

  /**
   * The spec a run was started with (the first event of its history), e.g. to retrain it.
   *
   * @throws RunNotFoundException when there is no such run
   */
  public RunSpec specOf(String runId) {
    describeOrThrow(runId);
    for (HistoryEvent event : client.fetchHistory(runId).getEvents()) {
      if (event.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) {
        Payloads input = event.getWorkflowExecutionStartedEventAttributes().getInput();
        return client
            .getOptions()
            .getDataConverter()
            .fromPayloads(0, Optional.of(input), RunSpec.class, RunSpec.class);
      }
    }
    throw new IllegalStateException("run '" + runId + "' has no start event in its history");
  }

  /** Links known before the run ends: Temporal UI and the MinIO prefix of the run. */
  public RunLinks plannedLinks(String runId) {
    return new RunLinks(
        links.temporalRun(namespace(), runId).toString(),
        null,
        links.minioPrefix("runs/" + runId + "/").toString());
  }

  private RunLinks linksOf(String runId, FineTuneResult result) {
    RunLinks planned = plannedLinks(runId);
    RunLinks given = result.links();
    if (given == null) {
      return planned;
    }
    return new RunLinks(
        given.temporalUi() != null ? given.temporalUi() : planned.temporalUi(),
        given.mlflowRun(),
        given.minioConsole() != null ? given.minioConsole() : planned.minioConsole());
  }

  private WorkflowExecutionMetadata describeOrThrow(String runId) {
    try {
      return client.newUntypedWorkflowStub(runId).describe();
    } catch (WorkflowNotFoundException e) {
      throw new RunNotFoundException(runId, namespace());
    } catch (RuntimeException e) {
      if (grpcStatus(e) == Status.Code.NOT_FOUND) {
        throw new RunNotFoundException(runId, namespace());
      }
      throw e;
    }
  }

  static RunView.Failure failureOf(WorkflowFailedException e) {
    Throwable cause = e.getCause();
    // an activity's failure wraps the ApplicationFailure that says what went wrong
    while (cause instanceof ActivityFailure && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof ApplicationFailure af) {
      return new RunView.Failure(af.getType(), af.getOriginalMessage());
    }
    if (cause instanceof CanceledFailure) {
      return new RunView.Failure(FailureTypes.CANCELLED, "the workflow was cancelled");
    }
    if (cause instanceof TerminatedFailure tf) {
      return new RunView.Failure("Terminated", tf.getOriginalMessage());
    }
    if (cause instanceof TimeoutFailure tf) {
      return new RunView.Failure("Timeout", tf.getOriginalMessage());
    }
    if (cause instanceof TemporalFailure tf) {
      return new RunView.Failure(tf.getClass().getSimpleName(), tf.getOriginalMessage());
    }
    return new RunView.Failure("Unknown", String.valueOf(cause == null ? e : cause));
  }

  private static String queryProblem(RuntimeException e) {
    if (e instanceof IllegalStateException) {
      return e.getMessage();
    }
    Status.Code code = grpcStatus(e);
    if (code == Status.Code.DEADLINE_EXCEEDED) {
      return "no CPU worker answered the progress query in time; is `loraflow worker cpu` running?";
    }
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }

  static Status.Code grpcStatus(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof StatusRuntimeException sre) {
        return sre.getStatus().getCode();
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }

  private static String attribute(SearchAttributes attributes, SearchAttributeKey<String> key) {
    return attributes == null ? null : attributes.get(key);
  }

  private static String instant(Instant t) {
    return t == null ? null : t.toString();
  }
}
