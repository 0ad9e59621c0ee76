package io.loraflow.workflows.admission;

import io.loraflow.workflows.TaskQueues;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import java.util.ArrayList;
import java.util.List;

/** {@link AdmissionActivities} over a {@link WorkflowClient}. */
public final class AdmissionActivitiesImpl implements AdmissionActivities {

  /** Holders checked per call at most (the gate holds {@link AdmissionConfig#slots()}). */
  static final int MAX_CHECKED = 1000;

  private final WorkflowClient client;
  private final AdmissionConfig config;

  public AdmissionActivitiesImpl(WorkflowClient client, AdmissionConfig config) {
    this.client = client;
    this.config = config;
  }

  @Override
  public void requestAdmission(String workflowId, long submittedAtMillis) {
    var gate =
        client.newUntypedWorkflowStub(
            AdmissionGateWorkflow.TYPE,
            WorkflowOptions.newBuilder()
                .setWorkflowId(AdmissionGateWorkflow.ID)
                .setTaskQueue(TaskQueues.CPU)
                .build());
    gate.signalWithStart(
        "request",
        new Object[] {new AdmissionRequest(workflowId, submittedAtMillis, config)},
        new Object[] {GateState.empty(config)});
  }

  @Override
  public List<String> closedOf(List<String> workflowIds) {
    List<String> closed = new ArrayList<>();
    for (String id : workflowIds.subList(0, Math.min(workflowIds.size(), MAX_CHECKED))) {
      try {
        var status = client.newUntypedWorkflowStub(id).describe().getStatus();
        if (status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
          closed.add(id);
        }
      } catch (WorkflowNotFoundException e) {
        closed.add(id);
      }
    }
    return closed;
  }
}
