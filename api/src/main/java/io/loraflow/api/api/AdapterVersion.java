package io.loraflow.api.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One registered adapter version with its lineage and metrics (from its MLflow version tags).
 *
 * @param version "1", "2", ...
 * @param aliases aliases pointing at it, e.g. ["champion"]
 * @param source where the adapter files are, e.g. {@code s3://loraflow/runs/<id>/adapter/}
 * @param runId the loraflow run (workflow id) that produced it
 * @param mlflowRunId the MLflow run with its params and metrics
 * @param baseModel the base model it adapts
 * @param datasetSha256 content hash of the training data
 * @param evalSetSha256 hash of the tokenized held-out split its eval losses come from
 * @param evalLoss adapter eval loss on that held-out set
 * @param baseEvalLoss the base model's eval loss on the same set
 * @param rougeL mean ROUGE-L of the adapter's answers on the held-out prompts
 * @param promotion why it was or was not promoted to champion
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AdapterVersion(
    String version,
    List<String> aliases,
    String source,
    String runId,
    String mlflowRunId,
    String baseModel,
    String datasetSha256,
    String evalSetSha256,
    Double evalLoss,
    Double baseEvalLoss,
    Double rougeL,
    String promotion) {}
