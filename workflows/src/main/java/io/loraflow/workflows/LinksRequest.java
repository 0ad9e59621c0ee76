package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Input of {@link CpuActivities#runLinks}.
 *
 * @param workflowId the workflow id (= run id)
 * @param workflowRunId Temporal's run id of this execution
 * @param mlflowRunId the MLflow run, or null
 * @param experimentId the MLflow experiment, or null
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LinksRequest(
    String workflowId, String workflowRunId, String mlflowRunId, String experimentId) {}
