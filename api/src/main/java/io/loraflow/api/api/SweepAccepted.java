package io.loraflow.api.api;

/**
 * Answer to a sweep start.
 *
 * @param sweepId the Sweep workflow id
 * @param children how many FineTune children the grid gives
 * @param temporalUi the sweep in the Temporal UI
 */
public record SweepAccepted(String sweepId, int children, String temporalUi) {}
