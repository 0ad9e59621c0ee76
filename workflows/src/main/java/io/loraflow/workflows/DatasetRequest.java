package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Input of {@link CpuActivities#prepareDataset}.
 *
 * @param uri the dataset URI ({@link DatasetUris})
 * @param format "auto" or an explicit format ({@link DatasetUris#FORMATS})
 * @param runId the run asking (for logs only; datasets are shared between runs)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DatasetRequest(String uri, String format, String runId) {}
