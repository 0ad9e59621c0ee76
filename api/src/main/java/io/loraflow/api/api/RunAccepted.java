package io.loraflow.api.api;

import io.loraflow.workflows.RunLinks;

/**
 * Answer to a start request.
 *
 * @param runId the workflow id, e.g. {@code
 *     finetune-smollm2-135m-instruct-1a2b3c4d-20260101-120000}
 * @param created false when an idempotency key (or run name) matched an existing run, which is then
 *     the one returned
 * @param links where to watch it (the MLflow link appears once the run has one: GET the run)
 */
public record RunAccepted(String runId, boolean created, RunLinks links) {}
