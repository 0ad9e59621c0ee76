package io.loraflow.workflows;

import io.loraflow.workflows.admission.AdmissionGate;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DataConverterException;
import java.util.List;
import java.util.Optional;

/**
 * A run's progress as people see it: the phase and its message from the workflow's {@link
 * FineTuneWorkflow#progress()} query (workflow state), and step/total, loss, tokens/s and ETA from
 * the heartbeat details of the running GPU activity (read with DescribeWorkflowExecution). The GPU
 * activities never signal progress, so a run's history does not grow with its length.
 *
 * <p>Heartbeat details are {@link TrainHeartbeat} (with its {@code progress}) for {@code train} and
 * a plain {@link Progress} for {@code evaluate} and {@code prepareBaseModel}; details of another
 * shape (older workers) are ignored.
 */
public final class RunProgress {

  /** Temporal's activity type names (the method names, capitalized). */
  static final String TRAIN = "Train";

  private RunProgress() {}

  /** Query + describe: the full progress of a running run (blocking; no timeout of its own). */
  public static Progress read(WorkflowClient client, String workflowId) {
    Progress state =
        withQueuePosition(
            client,
            workflowId,
            client.newWorkflowStub(FineTuneWorkflow.class, workflowId).progress());
    return merge(
        state, pendingActivities(client, workflowId), client.getOptions().getDataConverter());
  }

  /**
   * A {@link Phase#QUEUED} run's progress with its place at the admission gate in the message
   * ({@code "position 3 of 97 waiting; 2 of 2 slots in use"}); other phases, a cancel in flight, or
   * a gate that does not answer: {@code state} as it is.
   */
  public static Progress withQueuePosition(
      WorkflowClient client, String workflowId, Progress state) {
    if (state == null
        || state.phase() != Phase.QUEUED
        || state.message().startsWith("cancelling")) {
      return state;
    }
    return AdmissionGate.position(client, workflowId)
        .map(p -> Progress.of(Phase.QUEUED, p.describe()))
        .orElse(state);
  }

  /** The pending activities of a run, from DescribeWorkflowExecution. */
  public static List<PendingActivityInfo> pendingActivities(
      WorkflowClient client, String workflowId) {
    return pendingActivities(client, workflowId, java.time.Duration.ofSeconds(10));
  }

  /** The same, waiting at most {@code timeout} for the server. */
  public static List<PendingActivityInfo> pendingActivities(
      WorkflowClient client, String workflowId, java.time.Duration timeout) {
    return client
        .getWorkflowServiceStubs()
        .blockingStub()
        .withDeadlineAfter(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .describeWorkflowExecution(
            DescribeWorkflowExecutionRequest.newBuilder()
                .setNamespace(client.getOptions().getNamespace())
                .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId).build())
                .build())
        .getPendingActivitiesList();
  }

  /**
   * The workflow's progress with the step counters of the pending activity whose heartbeat belongs
   * to the current phase. A retried activity says so in the message ({@code "attempt 3"}), so a run
   * that keeps losing its GPU worker is visible.
   */
  public static Progress merge(
      Progress state, List<PendingActivityInfo> pending, DataConverter converter) {
    if (state == null || state.phase().isTerminal()) {
      return state;
    }
    for (PendingActivityInfo a : pending) {
      Optional<Progress> beat = heartbeatProgress(a, converter);
      if (beat.isEmpty() || beat.get().phase() != state.phase()) {
        continue;
      }
      Progress p = beat.get();
      String message = p.message().isEmpty() ? state.message() : p.message();
      if (a.getAttempt() > 1) {
        message = (message.isEmpty() ? "" : message + " ") + "(attempt " + a.getAttempt() + ")";
      }
      if (state.message().startsWith("cancelling")) {
        message = state.message(); // a cancel in flight is the news
      }
      return new Progress(
          state.phase(),
          p.step(),
          p.totalSteps(),
          p.loss(),
          p.tokensPerSecond(),
          p.etaSeconds(),
          message);
    }
    return state;
  }

  /** The progress line carried by one pending activity's last heartbeat, if any. */
  public static Optional<Progress> heartbeatProgress(
      PendingActivityInfo a, DataConverter converter) {
    if (!a.hasHeartbeatDetails() || a.getHeartbeatDetails().getPayloadsCount() == 0) {
      return Optional.empty();
    }
    Payloads details = a.getHeartbeatDetails();
    try {
      if (TRAIN.equals(a.getActivityType().getName())) {
        TrainHeartbeat beat =
            converter.fromPayloads(
                0, Optional.of(details), TrainHeartbeat.class, TrainHeartbeat.class);
        return Optional.ofNullable(beat == null ? null : beat.progress());
      }
      return Optional.ofNullable(
          converter.fromPayloads(0, Optional.of(details), Progress.class, Progress.class));
    } catch (DataConverterException e) {
      return Optional.empty(); // an older worker's details (e.g. a plain string)
    }
  }
}
