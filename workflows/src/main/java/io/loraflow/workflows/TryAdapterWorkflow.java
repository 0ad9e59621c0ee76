package io.loraflow.workflows;

import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * Tries an adapter on one prompt: runs {@link GpuActivities#generate} on the GPU queue and returns
 * its answer. Short-lived (one activity), started by the API's "try an adapter" endpoint with the
 * id {@code try-<uuid>}, on {@link TaskQueues#CPU}.
 */
@WorkflowInterface
public interface TryAdapterWorkflow {

  /** Workflow type name. */
  String TYPE = "TryAdapter";

  @WorkflowMethod(name = TYPE)
  TryResult run(TryRequest request);
}
