package io.loraflow.api;

import io.loraflow.api.core.AdmissionControl;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.SweepChild;
import io.loraflow.workflows.SweepResult;
import io.loraflow.workflows.SweepSpec;
import io.loraflow.workflows.SweepWorkflow;
import io.temporal.workflow.Async;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Workflow;
import java.util.List;

/**
 * A Sweep with the real contract but a script: it starts its first {@code min(maxConcurrent,
 * children)} children ({@link ScriptedFineTune}, which run until told otherwise) as child workflows
 * {@code <sweep id>-c<i>} and waits until it is terminated, so API tests see a sweep with running
 * children in visibility.
 */
public class ScriptedSweep implements SweepWorkflow {

  @Override
  public SweepResult run(SweepSpec spec) {
    String id = Workflow.getInfo().getWorkflowId();
    List<RunSpec> children = spec.children(id, null);
    for (int i = 0; i < AdmissionControl.sweepSlots(spec); i++) {
      FineTuneWorkflow child =
          Workflow.newChildWorkflowStub(
              FineTuneWorkflow.class,
              ChildWorkflowOptions.newBuilder().setWorkflowId(id + "-c" + i).build());
      Async.function(child::run, children.get(i));
      Workflow.getWorkflowExecution(child).get(); // started before the next one
    }
    Workflow.await(() -> false);
    return null;
  }

  @Override
  public List<SweepChild> children() {
    return List.of();
  }
}
