package io.loraflow.workflows.admission;

import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.SignalExternalWorkflowException;
import io.temporal.workflow.Workflow;

/**
 * Signals from one workflow to another that may be gone. A signal to a workflow that has closed
 * fails in two shapes, depending on the SDK path: a {@link SignalExternalWorkflowException}, or
 * (the Temporal server's SignalExternalWorkflowExecutionFailed event, as SDK 1.38 delivers it) an
 * {@link ApplicationFailure} of type {@code SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_...}.
 * Both mean "nobody to tell"; any other failure is rethrown.
 */
public final class ExternalSignals {

  /** The failure types Temporal gives a signal whose target workflow cannot receive it. */
  static final String FAILED_CAUSE_PREFIX = "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_";

  private ExternalSignals() {}

  /**
   * Runs {@code signal} (one signal to another workflow).
   *
   * @return false when the target is gone (closed or never started), true when it was signalled
   */
  public static boolean sendIfPresent(Runnable signal) {
    try {
      signal.run();
      return true;
    } catch (SignalExternalWorkflowException gone) {
      return false;
    } catch (ApplicationFailure failure) {
      if (isTargetGone(failure)) {
        return false;
      }
      throw failure;
    }
  }

  /** True for the failure Temporal reports when a signal's target workflow cannot receive it. */
  static boolean isTargetGone(ApplicationFailure failure) {
    String type = failure.getType();
    return type != null && type.startsWith(FAILED_CAUSE_PREFIX);
  }

  /** Signals {@code workflowId} by name, or does nothing when it is gone. */
  static boolean signalIfPresent(String workflowId, String signal, Object arg) {
    return sendIfPresent(
        () -> Workflow.newUntypedExternalWorkflowStub(workflowId).signal(signal, arg));
  }
}
