package io.loraflow.api.api;

/**
 * Answer to a cancel request: the signal was delivered; the run ends as CANCELLED once the current
 * activity has stopped (a training step checkpoints first). Poll GET /v1/runs/{id}.
 */
public record CancelAccepted(String runId, String reason) {}
