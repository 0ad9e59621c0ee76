package io.loraflow.infra.mlflow;

/**
 * The one MLflow run of a workflow.
 *
 * @param artifactUri the run's artifact root as MLflow reports it ({@code mlflow-artifacts:/...}
 *     when the server proxies artifacts, {@code s3://...} when clients write them directly)
 * @param url the run's page in the MLflow UI
 * @param created true if this call created the run, false if it found the run of an earlier attempt
 */
public record TrackedRun(
    String runId, String experimentId, String artifactUri, String url, boolean created) {}
