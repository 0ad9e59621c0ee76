package io.loraflow.api;

import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.LoraflowSearchAttributes;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.RunLinks;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.TrainResult;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Workflow;
import java.util.Map;

/**
 * A FineTune workflow with the real contract (type, query, signals, failure types) but a script
 * instead of activities, so API tests can drive a run through its states: it runs until a
 * reportProgress with phase COMPLETED arrives (then returns a result) or until cancel (then fails
 * as Cancelled, like the real workflow). A dataset URI containing "broken" fails at once as
 * InvalidDataset.
 */
public class ScriptedFineTune implements FineTuneWorkflow {

  /** The base model of every scripted run (its result names it, as a real run's does). */
  public static final io.loraflow.workflows.BaseModelRef MODEL =
      new io.loraflow.workflows.BaseModelRef(
          "tiny-llama-random",
          "tiny-llama-random",
          "models/tiny-llama-random/",
          "models/tiny-llama-random/tokenizer.json",
          null,
          java.util.List.of(2),
          "llama");

  private Progress progress = Progress.of(Phase.STARTING, "started");
  private String cancelReason;

  @Override
  public FineTuneResult run(RunSpec spec) {
    if (spec.dataset().contains("broken")) {
      throw ApplicationFailure.newNonRetryableFailure(
          "dataset '" + spec.dataset() + "' has no question/answer pairs",
          FailureTypes.INVALID_DATASET);
    }
    Workflow.upsertTypedSearchAttributes(
        LoraflowSearchAttributes.BASE_MODEL.valueSet(spec.baseModel()),
        LoraflowSearchAttributes.PHASE.valueSet(Phase.STARTING.name()));
    Workflow.await(() -> cancelReason != null || progress.phase() == Phase.COMPLETED);
    if (cancelReason != null) {
      Workflow.upsertTypedSearchAttributes(
          LoraflowSearchAttributes.PHASE.valueSet(Phase.CANCELLED.name()));
      throw ApplicationFailure.newNonRetryableFailure(
          "Cancelled: " + cancelReason, FailureTypes.CANCELLED);
    }
    Workflow.upsertTypedSearchAttributes(
        LoraflowSearchAttributes.PHASE.valueSet(Phase.COMPLETED.name()));
    String id = Workflow.getInfo().getWorkflowId();
    return new FineTuneResult(
        id,
        spec,
        MODEL,
        null,
        null,
        new TrainResult("runs/" + id + "/adapter/", 30, 0.52, Map.of(), null, "abc123"),
        null,
        null,
        new RunLinks(null, "http://127.0.0.1:5000/#/experiments/1/runs/abc123", null));
  }

  @Override
  public Progress progress() {
    return progress;
  }

  @Override
  public void cancel(String reason) {
    cancelReason = reason;
  }

  @Override
  public void admission(io.loraflow.workflows.admission.Admission admission) {}

  @Override
  public void reportProgress(Progress p) {
    progress = p;
  }
}
