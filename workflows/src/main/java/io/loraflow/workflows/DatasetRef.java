package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * A normalized dataset in the object store.
 *
 * @param sha256 hex sha256 of the normalized JSONL bytes (the content hash; the storage key)
 * @param key {@code datasets/<sha256>/data.jsonl}
 * @param count number of question/answer pairs
 * @param stats what was found while preparing
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DatasetRef(String sha256, String key, int count, DatasetStats stats) {}
