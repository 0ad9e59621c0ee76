package io.loraflow.activities.cpu;

import io.loraflow.workflows.TrackingRun;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** MLflow's run and registry semantics in memory (the real ones are the infra helper's). */
final class InMemoryTracking implements RunTracker, AdapterRegistry {

  record Run(
      String id,
      String experiment,
      Map<String, String> tags,
      Map<String, String> params,
      Map<String, Double> metrics,
      String[] status) {}

  final List<Run> runs = new ArrayList<>();
  final Map<String, List<ModelVersion>> versions = new HashMap<>();
  final Map<String, String> aliases = new HashMap<>(); // "model/alias" -> version

  private Run run(String id) {
    return runs.stream().filter(r -> r.id().equals(id)).findFirst().orElseThrow();
  }

  @Override
  public Optional<TrackingRun> findRunByTag(String experimentName, String key, String value) {
    return runs.stream()
        .filter(r -> r.experiment().equals(experimentName) && value.equals(r.tags().get(key)))
        .findFirst()
        .map(r -> new TrackingRun(r.id(), "1", "s3://loraflow/mlflow/1/" + r.id()));
  }

  @Override
  public TrackingRun createRun(String experimentName, String runName, Map<String, String> tags) {
    String id = "run" + (runs.size() + 1);
    runs.add(
        new Run(
            id,
            experimentName,
            new LinkedHashMap<>(tags),
            new LinkedHashMap<>(),
            new LinkedHashMap<>(),
            new String[] {"RUNNING"}));
    return new TrackingRun(id, "1", "s3://loraflow/mlflow/1/" + id);
  }

  @Override
  public void logParams(String runId, Map<String, String> params) {
    Map<String, String> existing = run(runId).params();
    params.forEach(
        (k, v) -> {
          String old = existing.putIfAbsent(k, v);
          if (old != null && !old.equals(v)) {
            throw new IllegalStateException("MLflow params are immutable: " + k);
          }
        });
  }

  @Override
  public void logMetrics(String runId, Map<String, Double> metrics, long step) {
    run(runId).metrics().putAll(metrics);
  }

  @Override
  public void setTags(String runId, Map<String, String> tags) {
    run(runId).tags().putAll(tags);
  }

  @Override
  public void setStatus(String runId, String status) {
    run(runId).status()[0] = status;
  }

  @Override
  public Optional<ModelVersion> findVersionByTag(String modelName, String key, String value) {
    return versions.getOrDefault(modelName, List.of()).stream()
        .filter(v -> value.equals(v.tags().get(key)))
        .findFirst();
  }

  @Override
  public ModelVersion createVersion(
      String modelName, String source, String mlflowRunId, Map<String, String> tags) {
    List<ModelVersion> list = versions.computeIfAbsent(modelName, k -> new ArrayList<>());
    ModelVersion v =
        new ModelVersion(modelName, String.valueOf(list.size() + 1), source, mlflowRunId, tags);
    list.add(v);
    return v;
  }

  @Override
  public Optional<ModelVersion> versionByAlias(String modelName, String alias) {
    String v = aliases.get(modelName + "/" + alias);
    return v == null
        ? Optional.empty()
        : versions.get(modelName).stream().filter(x -> x.version().equals(v)).findFirst();
  }

  @Override
  public void setAlias(String modelName, String alias, String version) {
    aliases.put(modelName + "/" + alias, version);
  }

  @Override
  public void setVersionTag(String modelName, String version, String key, String value) {
    List<ModelVersion> list = versions.get(modelName);
    for (int i = 0; i < list.size(); i++) {
      ModelVersion v = list.get(i);
      if (v.version().equals(version)) {
        Map<String, String> tags = new java.util.HashMap<>(v.tags());
        tags.put(key, value);
        list.set(i, new ModelVersion(modelName, version, v.source(), v.runId(), tags));
      }
    }
  }
}
