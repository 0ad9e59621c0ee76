package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Input of {@link CpuActivities#registerAdapter}. Idempotent: a version already registered for this
 * workflow id (tag {@code loraflow.workflow_id}) is returned, not registered again.
 *
 * @param modelName registered model name
 * @param promote whether "champion" may move to this version
 * @param workflowId the run (tag)
 * @param mlflowRunId the MLflow run the version is linked to
 * @param baseModel base model alias or URI (tag)
 * @param datasetSha256 dataset content hash (tag)
 * @param adapterKey the adapter prefix in the object store (the version's source)
 * @param eval evaluation (its adapter eval loss decides promotion; logged as tags)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RegistrationRequest(
    String modelName,
    boolean promote,
    String workflowId,
    String mlflowRunId,
    String baseModel,
    String datasetSha256,
    String adapterKey,
    EvalResult eval) {}
