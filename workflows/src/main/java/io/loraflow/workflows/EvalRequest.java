package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Input of {@link GpuActivities#evaluate}.
 *
 * @param runId the run; reports go to {@code runs/<runId>/eval/}
 * @param model the base model
 * @param prompts the tokenized splits (eval.jsonl for loss, eval-prompts.jsonl for generation)
 * @param adapterKey the trained adapter prefix
 * @param evaluation generation settings
 * @param precision compute precision ({@link TrainingSpec#precision()})
 * @param mlflowRunId where the report artifacts are linked
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record EvalRequest(
    String runId,
    BaseModelRef model,
    PromptsRef prompts,
    String adapterKey,
    EvaluationSpec evaluation,
    String precision,
    String mlflowRunId) {}
