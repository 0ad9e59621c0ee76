package io.loraflow.api.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One line of a run listing (from Temporal visibility; no query to a worker).
 *
 * @param runId the workflow id
 * @param status as in {@link RunView#status()} (a run failed by a cancel request shows FAILED here:
 *     telling it apart needs the failure, which listings do not carry)
 * @param phase the LoraflowPhase search attribute
 * @param baseModel the LoraflowBaseModel search attribute
 * @param dataset the LoraflowDataset search attribute (content sha256), once the dataset is
 *     prepared
 * @param startTime ISO-8601 UTC
 * @param closeTime ISO-8601 UTC, null while running
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunSummary(
    String runId,
    String status,
    String phase,
    String baseModel,
    String dataset,
    String startTime,
    String closeTime) {}
