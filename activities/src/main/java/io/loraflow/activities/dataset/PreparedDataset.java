package io.loraflow.activities.dataset;

import io.loraflow.workflows.DatasetStats;
import java.util.List;

/**
 * A dataset ready to store.
 *
 * @param sha256 hex sha256 of {@code jsonl}
 * @param jsonl normalized UTF-8 JSONL, one {"question","answer"} object per line, LF line ends
 * @param pairs the same pairs
 * @param stats what was found
 */
public record PreparedDataset(
    String sha256, byte[] jsonl, List<QaPair> pairs, DatasetStats stats) {}
