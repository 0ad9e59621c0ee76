package io.loraflow.api.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraflow.activities.cpu.AdapterRegistrar;
import io.loraflow.api.api.Comparison;
import io.loraflow.infra.mlflow.MlflowRest;
import io.loraflow.infra.mlflow.MlflowRestException;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares runs from MLflow: each loraflow run (workflow id) is found by its MLflow run's tag
 * {@value AdapterRegistrar#WORKFLOW_TAG} in the {@code loraflow-*} experiments; params and latest
 * metrics are laid side by side with the differing rows marked.
 */
public final class RunComparer {

  /** Most runs one comparison takes. */
  public static final int MAX_RUNS = 10;

  /** Run ids: the workflow-id alphabet (no quote can reach the MLflow filter). */
  public static final String RUN_ID = "[A-Za-z0-9._:-]{1,255}";

  private final MlflowRest rest;

  public RunComparer(MlflowRest rest) {
    this.rest = rest;
  }

  /**
   * @param runIds 2-{@value #MAX_RUNS} distinct run ids
   * @throws IllegalArgumentException naming every bad id at once
   * @throws NotFoundException naming the runs MLflow does not know
   */
  public Comparison compare(List<String> runIds) {
    List<String> problems = new ArrayList<>();
    if (runIds.size() < 2 || runIds.size() > MAX_RUNS) {
      problems.add("give 2-" + MAX_RUNS + " run ids, got " + runIds.size());
    }
    if (new HashSet<>(runIds).size() != runIds.size()) {
      problems.add("run ids must be distinct");
    }
    for (int i = 0; i < runIds.size(); i++) {
      if (!runIds.get(i).matches(RUN_ID)) {
        problems.add("runs[" + i + "] must be a run id (1-255 of A-Z a-z 0-9 . _ : -)");
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
    List<String> experiments = experimentIds();
    Map<String, JsonNode> found = new LinkedHashMap<>();
    List<String> missing = new ArrayList<>();
    for (String id : runIds) {
      JsonNode run = experiments.isEmpty() ? null : find(experiments, id);
      if (run == null) {
        missing.add(id);
      } else {
        found.put(id, run);
      }
    }
    if (!missing.isEmpty()) {
      throw new NotFoundException(
          "MLflow has no run for "
              + missing
              + " (a run appears there once its dataset and prompts are prepared); list runs with"
              + " GET /v1/runs");
    }
    List<Comparison.ComparedRun> runs = new ArrayList<>();
    Map<String, Map<String, String>> params = new TreeMap<>();
    Map<String, Map<String, Double>> metrics = new TreeMap<>();
    found.forEach(
        (id, run) -> {
          JsonNode info = run.path("info");
          runs.add(
              new Comparison.ComparedRun(
                  id,
                  info.path("run_id").asText(),
                  info.path("status").asText(),
                  rest.base()
                      + "#/experiments/"
                      + info.path("experiment_id").asText()
                      + "/runs/"
                      + info.path("run_id").asText()));
          for (JsonNode p : run.path("data").path("params")) {
            params
                .computeIfAbsent(p.path("key").asText(), k -> new LinkedHashMap<>())
                .put(id, p.path("value").asText());
          }
          for (JsonNode m : run.path("data").path("metrics")) {
            metrics
                .computeIfAbsent(m.path("key").asText(), k -> new LinkedHashMap<>())
                .put(id, m.path("value").asDouble());
          }
        });
    List<Comparison.ParamRow> paramRows = new ArrayList<>();
    params.forEach((k, v) -> paramRows.add(new Comparison.ParamRow(k, v, differs(v, runIds))));
    List<Comparison.MetricRow> metricRows = new ArrayList<>();
    metrics.forEach((k, v) -> metricRows.add(new Comparison.MetricRow(k, v, differs(v, runIds))));
    return new Comparison(runs, paramRows, metricRows);
  }

  /** Comma-separated ids as given in {@code ?runs=a,b}, blanks dropped, order kept. */
  public static List<String> parseIds(String csv) {
    List<String> out = new ArrayList<>();
    if (csv == null) {
      return out;
    }
    for (String s : csv.split(",", MAX_RUNS + 2)) {
      if (!s.isBlank()) {
        out.add(s.strip());
      }
    }
    return out;
  }

  private static boolean differs(Map<String, ?> values, List<String> runIds) {
    if (values.size() != runIds.size()) {
      return true;
    }
    Set<Object> distinct = new HashSet<>();
    values.values().forEach(v -> distinct.add(Objects.requireNonNullElse(v, "")));
    return distinct.size() > 1;
  }

  private List<String> experimentIds() {
    Set<String> ids = new LinkedHashSet<>();
    String token = "";
    try {
      do {
        Map<String, String> q =
            new java.util.HashMap<>(
                Map.of("max_results", "1000", "filter", "name LIKE 'loraflow-%'"));
        if (!token.isEmpty()) {
          q.put("page_token", token);
        }
        JsonNode page = rest.get("experiments/search", q);
        for (JsonNode e : page.path("experiments")) {
          ids.add(e.path("experiment_id").asText());
        }
        token = page.path("next_page_token").asText("");
      } while (!token.isEmpty() && ids.size() < 10_000);
    } catch (MlflowRestException | IllegalStateException e) {
      throw UpstreamException.mlflow(URI.create(rest.base().toString()), e);
    }
    return new ArrayList<>(new TreeSet<>(ids));
  }

  private JsonNode find(List<String> experiments, String runId) {
    ObjectNode body = MlflowRest.object();
    experiments.forEach(body.putArray("experiment_ids")::add);
    body.put("filter", "tags.`" + AdapterRegistrar.WORKFLOW_TAG + "` = '" + runId + "'");
    body.put("max_results", 1);
    try {
      JsonNode runs = rest.post("runs/search", body).path("runs");
      return runs.isEmpty() ? null : runs.get(0);
    } catch (MlflowRestException | IllegalStateException e) {
      throw UpstreamException.mlflow(URI.create(rest.base().toString()), e);
    }
  }
}
