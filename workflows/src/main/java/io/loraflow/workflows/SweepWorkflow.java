package io.loraflow.workflows;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.util.List;

/**
 * A hyper-parameter sweep: one FineTune child workflow per grid combination ({@link SweepSpec}), at
 * most {@code maxConcurrent} at once, each as durable as any run (its own history, activity
 * retries, preemption-safe training). One MLflow parent run with the children nested under it (tag
 * {@code mlflow.parentRunId}); the child with the lowest held-out eval loss is registered (children
 * themselves do not register). A failed child is recorded and the others go on; the sweep fails
 * only when every child failed. Workflow type {@value #TYPE}, task queue {@link TaskQueues#CPU},
 * workflow id {@code sweep-<name>}.
 */
@WorkflowInterface
public interface SweepWorkflow {

  String TYPE = "Sweep";

  /** Failure type of a sweep whose every child failed (each child's failure is in the message). */
  String ALL_CHILDREN_FAILED = "SweepAllChildrenFailed";

  @WorkflowMethod(name = TYPE)
  SweepResult run(SweepSpec spec);

  /** The children so far: finished ones with their result, running ones with status RUNNING. */
  @QueryMethod
  List<SweepChild> children();
}
