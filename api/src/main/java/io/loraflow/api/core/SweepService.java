package io.loraflow.api.core;

import io.loraflow.api.api.RunView;
import io.loraflow.api.api.SweepAccepted;
import io.loraflow.api.api.SweepView;
import io.loraflow.workflows.BaseModels;
import io.loraflow.workflows.SweepChild;
import io.loraflow.workflows.SweepResult;
import io.loraflow.workflows.SweepSpec;
import io.loraflow.workflows.SweepWorkflow;
import io.loraflow.workflows.TaskQueues;
import io.loraflow.workflows.WorkflowIds;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowExecutionMetadata;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts and inspects Sweep workflows (the REST resource and the command line share it). Sweep ids
 * are {@code sweep-<base runName>} or {@code sweep-<model>-<yyyymmdd-hhmmss>}.
 */
public final class SweepService {

  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

  private final WorkflowClient client;
  private final LinkSettings links;
  private final Clock clock;

  public SweepService(WorkflowClient client, LinkSettings links, Clock clock) {
    this.client = client;
    this.links = links;
    this.clock = clock;
  }

  /** A service on the same client and links as {@code runs}. */
  public static SweepService of(RunService runs) {
    return new SweepService(runs.client(), runs.links(), Clock.systemUTC());
  }

  /**
   * Starts a sweep on the CPU task queue.
   *
   * @throws InvalidRunSpecException listing every problem of the sweep spec
   * @throws RunConflictException when a sweep with that id exists and did not fail
   */
  public SweepAccepted start(SweepSpec spec) {
    return start(spec, "cli");
  }

  /**
   * {@link #start(SweepSpec)} on behalf of the API key {@code keyId}: its memo holds the key
   * ({@value RunService#MEMO_KEY_ID}) and the runs it counts as ({@value
   * AdmissionControl#MEMO_SLOTS}), for admission control.
   */
  public SweepAccepted start(SweepSpec spec, String keyId) {
    List<String> problems = spec.problems();
    if (!problems.isEmpty()) {
      throw new InvalidRunSpecException(problems);
    }
    String id =
        spec.base().runName() != null
            ? "sweep-" + WorkflowIds.slug(spec.base().runName(), 64)
            : "sweep-"
                + WorkflowIds.slug(BaseModels.storageName(spec.base().baseModel()), 40)
                + "-"
                + STAMP.format(clock.instant());
    WorkflowOptions options =
        WorkflowOptions.newBuilder()
            .setWorkflowId(id)
            .setTaskQueue(TaskQueues.CPU)
            .setWorkflowIdReusePolicy(
                WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY)
            .setWorkflowIdConflictPolicy(WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL)
            .setMemo(
                java.util.Map.of(
                    RunService.MEMO_KEY_ID,
                    keyId == null ? "cli" : keyId,
                    AdmissionControl.MEMO_SLOTS,
                    AdmissionControl.sweepSlots(spec)))
            .build();
    try {
      WorkflowClient.start(client.newWorkflowStub(SweepWorkflow.class, options)::run, spec);
    } catch (WorkflowExecutionAlreadyStarted e) {
      throw new RunConflictException(
          "sweep '" + id + "' already exists and did not fail; give base.runName another value");
    }
    return new SweepAccepted(id, (int) spec.grid().size(), temporalUi(id));
  }

  /**
   * Status, children and result (or failure) of a sweep.
   *
   * @throws RunNotFoundException when there is no such sweep
   */
  public SweepView describe(String sweepId) {
    WorkflowExecutionMetadata d;
    try {
      d = client.newUntypedWorkflowStub(sweepId).describe();
    } catch (WorkflowNotFoundException e) {
      throw new RunNotFoundException(sweepId, client.getOptions().getNamespace());
    }
    if (!SweepWorkflow.TYPE.equals(d.getWorkflowType())) {
      throw new RunNotFoundException(sweepId, client.getOptions().getNamespace());
    }
    String status = RunStatus.of(d.getStatus());
    if (d.getStatus() == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
      List<SweepChild> children;
      try {
        // bounded: a query without a CPU worker would be retried by the SDK for a minute
        children =
            CompletableFuture.supplyAsync(
                    () -> client.newWorkflowStub(SweepWorkflow.class, sweepId).children())
                .get(RunService.DEFAULT_QUERY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        children = List.of();
      }
      return new SweepView(sweepId, status, children, null, null, temporalUi(sweepId));
    }
    try {
      SweepResult r =
          client.newUntypedWorkflowStub(sweepId).getResult(5, TimeUnit.SECONDS, SweepResult.class);
      return new SweepView(sweepId, status, r.children(), r, null, temporalUi(sweepId));
    } catch (WorkflowFailedException e) {
      RunView.Failure failure = RunService.failureOf(e);
      return new SweepView(sweepId, status, List.of(), null, failure, temporalUi(sweepId));
    } catch (TimeoutException e) {
      throw new IllegalStateException("sweep '" + sweepId + "' is closed but has no result yet", e);
    }
  }

  private String temporalUi(String id) {
    return links
        .temporalRun(
            client.getOptions().getNamespace(), URLEncoder.encode(id, StandardCharsets.UTF_8))
        .toString();
  }
}
