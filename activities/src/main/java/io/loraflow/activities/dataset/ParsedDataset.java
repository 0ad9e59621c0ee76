package io.loraflow.activities.dataset;

import java.util.List;

/**
 * Examples as parsed, before validation.
 *
 * @param format the format found ("nested-json", "json-array", "jsonl", "csv"), with the record
 *     shape when not plain question/answer (e.g. "jsonl+alpaca")
 * @param pairs the examples in source order
 */
public record ParsedDataset(String format, List<QaPair> pairs) {}
