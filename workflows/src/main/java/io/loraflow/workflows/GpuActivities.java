package io.loraflow.workflows;

import io.temporal.activity.ActivityInterface;

/**
 * Activities on {@link TaskQueues#GPU}, implemented by the GPU worker over the engine. They are
 * stateless: every input arrives as arguments and object-store keys, every output leaves as keys.
 * They heartbeat at least every 20 s (the workflow's heartbeat timeout is 60 s), honour
 * cancellation delivered on heartbeat, and send progress as described in {@link FineTuneWorkflow}.
 */
@ActivityInterface
public interface GpuActivities {

  /**
   * Resolves the base model (alias or URI), caches its files under {@code models/<name>/} with a
   * tokenizer.json and a manifest written last; returns immediately when the manifest exists.
   * Unknown alias or unreadable model: non-retryable {@link FailureTypes#UNKNOWN_BASE_MODEL} /
   * {@link FailureTypes#INVALID_BASE_MODEL}.
   */
  BaseModelRef prepareBaseModel(BaseModelRequest request);

  /**
   * QLoRA training. Heartbeats {@link TrainHeartbeat}; checkpoints every {@code
   * checkpointEverySteps} (files first, manifest last); a retry resumes from the heartbeat's
   * checkpoint or the newest complete one; writes the PEFT adapter to {@code runs/<id>/adapter/}.
   */
  TrainResult train(TrainRequest request);

  /**
   * Eval loss/perplexity and generated answers of base vs adapter on the eval split, scored with
   * ROUGE-L, token F1 and exact match; writes {@code runs/<id>/eval/report.{json,html}}.
   */
  EvalResult evaluate(EvalRequest request);

  /**
   * Answers one prompt with the base model and a run's adapter (the API's "try an adapter"). A
   * worker without this capability fails it as non-retryable {@code Unsupported}.
   */
  default TryResult generate(TryRequest request) {
    throw io.temporal.failure.ApplicationFailure.newNonRetryableFailure(
        "this GPU worker cannot generate; update it", "Unsupported");
  }
}
