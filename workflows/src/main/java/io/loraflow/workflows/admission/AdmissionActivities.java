package io.loraflow.workflows.admission;

import io.temporal.activity.ActivityInterface;
import java.util.List;

/** The gate's side effects on the Temporal server (CPU queue). */
@ActivityInterface
public interface AdmissionActivities {

  /**
   * Signals-with-start the gate {@link AdmissionGateWorkflow#ID}: asks for a slot for {@code
   * workflowId} with this worker's {@link AdmissionConfig}. Idempotent (asking twice keeps the
   * place).
   */
  void requestAdmission(String workflowId, long submittedAtMillis);

  /** Those of {@code workflowIds} that are no longer running (closed, or unknown to the server). */
  List<String> closedOf(List<String> workflowIds);
}
