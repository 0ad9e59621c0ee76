package io.loraflow.api.api;

import java.util.List;

/**
 * A page of runs, newest first.
 *
 * @param runs at most {@code limit} runs
 * @param query the Temporal visibility query that selected them (paste it into the Temporal UI)
 */
public record RunList(List<RunSummary> runs, String query) {}
