package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Where to look at a run. Null entries are services the CPU worker has no URL for.
 *
 * @param temporalUi the workflow in the Temporal UI
 * @param mlflowRun the MLflow run page
 * @param minioConsole the run's prefix in the MinIO console browser
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RunLinks(String temporalUi, String mlflowRun, String minioConsole) {}
