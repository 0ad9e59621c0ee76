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
 * <p><b>Progress without history growth.</b> The phase (and its message) is workflow state, served
 * by {@link #progress()}. Step/total, loss, tokens/s and ETA travel in the heartbeat details of the
 * running GPU activity ({@link TrainHeartbeat#progress()} for train, a {@link Progress} for the
 * others), which add no history events; {@link RunProgress#read} combines both (the API and the CLI
 * use it). A run's history therefore has the same few dozen events whether it trains for a minute
 * or three days.
 *
 * <p><b>Admission.</b> After prepareDataset (and the checks that need only the dataset) a run asks
 * the FIFO admission gate for a slot and waits, in phase {@link Phase#QUEUED}, without any activity
 * or timer, until it is admitted: at most {@code LORAFLOW_ADMISSION_SLOTS} runs prepare models,
 * train and evaluate at once, oldest first. It frees the slot when it ends, however it ends.
 *
 * <p><b>Cancel.</b> {@link #cancel(String)} cancels the running activity (GPU activities see it on
 * their next heartbeat, checkpoint and stop), closes the MLflow run as KILLED and fails the run
 * with type {@link FailureTypes#CANCELLED} and the reason. A plain Temporal cancel request works
 * too (the run then ends as Canceled).
 *
 * <p><b>Failures.</b> Bad input ends the run at once with a non-retryable ApplicationFailure whose
 * type is one of {@link FailureTypes#NON_RETRYABLE} and whose message says what to fix; so do GPU
 * failures that cannot succeed on a retry (a model that does not load, a checkpoint that does not
 * match, out of memory at micro-batch 1). Other GPU failures retry without limit (see {@link
 * ActivityPolicies}), so a preempted or wedged worker costs seconds.
 */
@WorkflowInterface
public interface FineTuneWorkflow {

  String TYPE = "FineTune";

  @WorkflowMethod(name = TYPE)
  FineTuneResult run(RunSpec spec);

  /**
   * The phase and its message (workflow state). Step counters appear here only from {@link
   * #reportProgress}; current GPU workers put them in heartbeat details instead (see {@link
   * RunProgress}).
   */
  @QueryMethod
  Progress progress();

  /**
   * The admission gate's answer ({@link io.loraflow.workflows.admission.AdmissionGateWorkflow}): a
   * granted run goes on past its admission point; a refused one fails with {@code
   * AdmissionRefused}. Only the first answer counts.
   */
  @SignalMethod(name = io.loraflow.workflows.admission.Admission.SIGNAL)
  void admission(io.loraflow.workflows.admission.Admission admission);

  /** Stop the run: the current activity is cancelled and the run fails as "Cancelled: reason". */
  @SignalMethod
  void cancel(String reason);

  /**
   * Progress sent by GPU workers older than heartbeat progress (kept so their signals are accepted
   * during a rolling upgrade, and for tests that script progress). Nothing in this version sends
   * it: each signal is a history event, which is why progress moved to heartbeat details.
   */
  @Deprecated
  @SignalMethod
  void reportProgress(Progress progress);
}
