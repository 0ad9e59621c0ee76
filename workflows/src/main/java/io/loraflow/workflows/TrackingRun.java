package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * An open MLflow run.
 *
 * @param mlflowRunId the run id
 * @param experimentId its experiment
 * @param artifactUri the run's artifact root (e.g. s3://loraflow/mlflow/1/&lt;id&gt;/artifacts)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrackingRun(String mlflowRunId, String experimentId, String artifactUri) {}
