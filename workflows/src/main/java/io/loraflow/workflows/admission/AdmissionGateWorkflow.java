package io.loraflow.workflows.admission;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The FIFO admission gate: one long-lived workflow per namespace (id {@value #ID}, task queue
 * {@code loraflow-cpu}) that admits at most {@link AdmissionConfig#slots()} FineTune runs past
 * their admission point at once, oldest first.
 *
 * <p>A run asks with {@link #request} (sent by the {@link AdmissionActivities#requestAdmission}
 * activity as a signal-with-start, so the first run starts the gate), then waits without any
 * activity or timer until the gate signals it {@link Admission} ({@code FineTune}'s {@code
 * admission} signal). When it ends (completed, failed, cancelled) it signals {@link #release}.
 * While runs wait, the gate checks its holders every {@link AdmissionConfig#holderCheckSeconds()}
 * and frees the slots of runs that closed without releasing (terminated, timed out); a grant that
 * cannot be delivered (the run is gone) frees its slot too. Its history stays bounded: it continues
 * as new, carrying queue and holders, after {@link AdmissionConfig#continueAsNewAfterEvents()}
 * events.
 */
@WorkflowInterface
public interface AdmissionGateWorkflow {

  String TYPE = "AdmissionGate";

  /** The gate's workflow id (one gate per namespace). */
  String ID = "loraflow-admission-gate";

  @WorkflowMethod(name = TYPE)
  void run(GateState state);

  @SignalMethod
  void request(AdmissionRequest request);

  /** The run {@code workflowId} ended: its slot (or its place in the queue) is freed. */
  @SignalMethod
  void release(String workflowId);

  /** Where {@code workflowId} stands. */
  @QueryMethod
  QueuePosition position(String workflowId);

  /** The whole state (settings, queue, holders, generation). */
  @QueryMethod
  GateState status();
}
