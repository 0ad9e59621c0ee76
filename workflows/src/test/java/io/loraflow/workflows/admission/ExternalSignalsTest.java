package io.loraflow.workflows.admission;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.workflow.SignalExternalWorkflowException;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import org.junit.jupiter.api.Test;

/**
 * A signal to a workflow that is gone means "nobody to tell", in both shapes Temporal reports it.
 * The 400-run flood (QueueFloodIT, session 16) failed one run with the second shape: its release
 * signal to the admission gate came back as ApplicationFailure
 * SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND, which the
 * run's catch of SignalExternalWorkflowException did not match, so the run failed while cancelling.
 */
class ExternalSignalsTest {

  @Test
  void theServersNotFoundFailureMeansGone() {
    ApplicationFailure notFound =
        ApplicationFailure.newFailure(
            "SignalExternalWorkflowExecution failed with NOT_FOUND. WorkflowId=loraflow-admission-gate",
            "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND");
    assertFalse(
        ExternalSignals.sendIfPresent(
            () -> {
              throw notFound;
            }));
    SignalExternalWorkflowException gone =
        new SignalExternalWorkflowException(
            WorkflowExecution.newBuilder().setWorkflowId("w").build(), "AdmissionGate");
    assertFalse(
        ExternalSignals.sendIfPresent(
            () -> {
              throw gone;
            }));
    assertTrue(ExternalSignals.sendIfPresent(() -> {}));
  }

  @Test
  void anyOtherFailureIsRethrown() {
    ApplicationFailure other = ApplicationFailure.newFailure("boom", "SOMETHING_ELSE");
    assertSame(
        other,
        assertThrows(
            ApplicationFailure.class,
            () ->
                ExternalSignals.sendIfPresent(
                    () -> {
                      throw other;
                    })));
  }

  @WorkflowInterface
  public interface Sender {
    @WorkflowMethod
    boolean send(String target);
  }

  public static class SenderImpl implements Sender {
    @Override
    public boolean send(String target) {
      return ExternalSignals.signalIfPresent(target, "anything", "x");
    }
  }

  @Test
  void aSignalToAWorkflowThatNeverRanReturnsGoneInsteadOfFailingTheSender() {
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      Worker w = env.newWorker("q");
      w.registerWorkflowImplementationTypes(SenderImpl.class);
      env.start();
      Sender s =
          env.getWorkflowClient()
              .newWorkflowStub(
                  Sender.class, WorkflowOptions.newBuilder().setTaskQueue("q").build());
      assertFalse(s.send("no-such-workflow"));
    }
  }
}
