package io.loraflow.workflows.admission;

import io.temporal.client.WorkflowClient;
import io.temporal.worker.Worker;
import java.util.Optional;

/** Wiring of the admission gate: what a CPU worker registers, and how clients read a position. */
public final class AdmissionGate {

  private AdmissionGate() {}

  /**
   * The gate workflow and its activities, on {@code cpuWorker} (the {@code loraflow-cpu} queue).
   */
  public static void register(Worker cpuWorker, WorkflowClient client, AdmissionConfig config) {
    cpuWorker.registerWorkflowImplementationTypes(AdmissionGateWorkflowImpl.class);
    cpuWorker.registerActivitiesImplementations(new AdmissionActivitiesImpl(client, config));
  }

  /**
   * Where {@code workflowId} stands at the gate (a query to the gate), or empty when the gate is
   * not running or does not answer.
   */
  public static Optional<QueuePosition> position(WorkflowClient client, String workflowId) {
    try {
      return Optional.of(
          client
              .newWorkflowStub(AdmissionGateWorkflow.class, AdmissionGateWorkflow.ID)
              .position(workflowId));
    } catch (RuntimeException e) {
      return Optional.empty(); // the position is a nicety; the run's phase is still right
    }
  }
}
