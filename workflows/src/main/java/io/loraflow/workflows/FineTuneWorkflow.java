package io.loraflow.workflows;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The FineTune pipeline: prepareDataset (cpu) → prepareBaseModel (gpu) → formatPrompts (cpu) →
 * openTrackingRun (cpu) → train (gpu) → evaluate (gpu) → closeTrackingRun, registerAdapter,
 * runLinks (cpu). Workflow type {@value #TYPE}, task queue {@link TaskQueues#CPU}, workflow id from
 * {@link WorkflowIds}; start it from the Temporal UI with a plain JSON {@link RunSpec}.
 *
 * <p><b>Progress, one mechanism.</b> The GPU activities send {@link #reportProgress(Progress)}
 * signals to their own workflow ({@code WorkflowClient.newWorkflowStub(FineTuneWorkflow.class,
 * Activity.getExecutionContext().getInfo().getWorkflowId()).reportProgress(p)}) at most once per
 * {@value #PROGRESS_SIGNAL_MIN_INTERVAL_SECONDS} s and at phase boundaries (loaded, resumed, done);
 * a failed signal is ignored (progress is best effort). The workflow keeps the latest one and
 * serves it through {@link #progress()}; it ignores reports whose phase is not the current phase
 * (late signals of a finished step). Separately, {@code train} heartbeats {@link TrainHeartbeat}
 * (step, checkpoint key, loss) for resumption; heartbeats are not progress.
 *
 * <p><b>Cancel.</b> {@link #cancel(String)} cancels the running activity (GPU activities see it on
 * their next heartbeat, checkpoint and stop), closes the MLflow run as KILLED and fails the run
 * with type {@link FailureTypes#CANCELLED} and the reason. A plain Temporal cancel request works
 * too (the run then ends as Canceled).
 *
 * <p><b>Failures.</b> Bad input ends the run at once with a non-retryable ApplicationFailure whose
 * type is one of {@link FailureTypes#NON_RETRYABLE} and whose message says what to fix. GPU steps
 * retry without limit (short backoff, 60 s heartbeat timeout), so a preempted worker costs minutes.
 */
@WorkflowInterface
public interface FineTuneWorkflow {

  String TYPE = "FineTune";
  int PROGRESS_SIGNAL_MIN_INTERVAL_SECONDS = 10;

  @WorkflowMethod(name = TYPE)
  FineTuneResult run(RunSpec spec);

  /** The latest progress: phase, step/total, loss, tokens/s, ETA, message. */
  @QueryMethod
  Progress progress();

  /** Stop the run: the current activity is cancelled and the run fails as "Cancelled: reason". */
  @SignalMethod
  void cancel(String reason);

  /** Sent by GPU activities (see the class comment); not meant for people. */
  @SignalMethod
  void reportProgress(Progress progress);
}
