package io.loraflow.api.core;

/**
 * Which runs to list. Values are Temporal Keyword search attributes matched exactly; each was
 * checked by the caller against {@link #VALUE_PATTERN} (so no quote can break the query).
 *
 * @param baseModel LoraflowBaseModel, e.g. {@code smollm2-135m-instruct}; null = any
 * @param dataset LoraflowDataset (the dataset's content sha256); null = any
 * @param status RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED or TIMED_OUT; null = any
 * @param limit at most this many runs, newest first
 */
public record RunFilter(String baseModel, String dataset, String status, int limit) {

  /** Allowed characters in a filter value. */
  public static final String VALUE_PATTERN = "[A-Za-z0-9._:/@+=-]{1,256}";

  public RunFilter {
    for (String v : new String[] {baseModel, dataset}) {
      if (v != null && !v.matches(VALUE_PATTERN)) {
        throw new IllegalArgumentException("filter value '" + v + "' must match " + VALUE_PATTERN);
      }
    }
    if (limit < 1 || limit > 1000) {
      throw new IllegalArgumentException("limit must be in [1, 1000], got " + limit);
    }
  }

  /** The Temporal visibility query for this filter. */
  public String toQuery() {
    StringBuilder q = new StringBuilder("WorkflowType = 'FineTune'");
    if (baseModel != null) {
      q.append(" AND LoraflowBaseModel = '").append(baseModel).append('\'');
    }
    if (dataset != null) {
      q.append(" AND LoraflowDataset = '").append(dataset).append('\'');
    }
    if (status != null) {
      q.append(" AND ExecutionStatus = '").append(RunStatus.visibilityName(status)).append('\'');
    }
    return q.toString();
  }
}
