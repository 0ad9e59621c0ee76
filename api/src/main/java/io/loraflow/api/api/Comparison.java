package io.loraflow.api.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * Runs side by side from MLflow: their params and metrics (latest value per key), one row per key,
 * {@code differs} marking the rows whose values are not all equal (a key missing from a run counts
 * as different).
 *
 * @param runs the compared runs, in the order asked
 * @param params one row per param key, sorted by key
 * @param metrics one row per metric key, sorted by key
 */
public record Comparison(List<ComparedRun> runs, List<ParamRow> params, List<MetricRow> metrics) {

  /**
   * @param runId the loraflow run (workflow id)
   * @param mlflowRunId its MLflow run
   * @param status MLflow's run status (RUNNING, FINISHED, FAILED, KILLED)
   * @param url the run's page in the MLflow UI
   */
  public record ComparedRun(String runId, String mlflowRunId, String status, String url) {}

  /** One param across the runs: run id -> value. */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record ParamRow(String key, Map<String, String> values, boolean differs) {}

  /** One metric across the runs: run id -> latest value. */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record MetricRow(String key, Map<String, Double> values, boolean differs) {}
}
