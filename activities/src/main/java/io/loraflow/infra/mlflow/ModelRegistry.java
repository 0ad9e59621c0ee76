package io.loraflow.infra.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The MLflow model registry over REST: registered models, versions pointing at adapters in MinIO,
 * and the alias policy: every new version becomes {@value #CANDIDATE}; it also becomes {@value
 * #CHAMPION} when its eval metric beats the current champion's (or there is none).
 *
 * <p>Idempotent: the version carries the tag {@value Tracking#WORKFLOW_TAG} (set in the same call
 * that creates it), so a retried registration finds it instead of creating a second version.
 */
public final class ModelRegistry {
  public static final String CANDIDATE = "candidate";
  public static final String CHAMPION = "champion";

  /** Version tag holding the promotion metric: {@code loraflow.metric.<key>}. */
  public static final String METRIC_TAG_PREFIX = "loraflow.metric.";

  private final MlflowRest rest;

  public ModelRegistry(MlflowRest rest) {
    this.rest = rest;
  }

  /** Registers (or finds) the version of {@code r}, sets the aliases, returns where it ended up. */
  public RegisteredVersion register(Registration r) {
    ensureRegisteredModel(r.modelName());
    Optional<ModelVersionRef> existing = findByWorkflow(r.modelName(), r.runId(), r.workflowId());
    ModelVersionRef version = existing.orElseGet(() -> createVersion(r));
    setAlias(r.modelName(), CANDIDATE, version.version());

    String metricTag = METRIC_TAG_PREFIX + r.metricKey();
    Optional<ModelVersionRef> champion = versionByAlias(r.modelName(), CHAMPION);
    boolean isChampion;
    Optional<String> previous = Optional.empty();
    if (champion.isEmpty()) {
      isChampion = true;
    } else if (champion.get().version().equals(version.version())) {
      isChampion = true; // promoted by an earlier attempt of this registration
    } else {
      previous = Optional.of(champion.get().version());
      String theirs = champion.get().tags().get(metricTag);
      // a champion without the metric (registered by hand) is beaten by any measured version
      isChampion =
          theirs == null
              || (r.higherIsBetter()
                  ? r.metricValue() > Double.parseDouble(theirs)
                  : r.metricValue() < Double.parseDouble(theirs));
    }
    if (isChampion) {
      setAlias(r.modelName(), CHAMPION, version.version());
    }
    ModelVersionRef fresh = version(r.modelName(), version.version());
    return new RegisteredVersion(
        fresh,
        existing.isEmpty(),
        isChampion,
        isChampion ? previous : Optional.empty(),
        url(fresh));
  }

  public void ensureRegisteredModel(String name) {
    try {
      rest.post("registered-models/create", MlflowRest.object().put("name", name));
    } catch (MlflowRestException e) {
      if (!e.isAlreadyExists()) {
        throw e;
      }
    }
  }

  public ModelVersionRef version(String name, String version) {
    return ModelVersionRef.fromJson(
        rest.get("model-versions/get", Map.of("name", name, "version", version))
            .path("model_version"));
  }

  public Optional<ModelVersionRef> versionByAlias(String name, String alias) {
    try {
      return Optional.of(
          ModelVersionRef.fromJson(
              rest.get("registered-models/alias", Map.of("name", name, "alias", alias))
                  .path("model_version")));
    } catch (MlflowRestException e) {
      if (e.isNotFound() || "INVALID_PARAMETER_VALUE".equals(e.errorCode())) {
        return Optional.empty();
      }
      throw e;
    }
  }

  public void setAlias(String name, String alias, String version) {
    rest.post(
        "registered-models/alias",
        MlflowRest.object().put("name", name).put("alias", alias).put("version", version));
  }

  /** The version's page in the MLflow UI. */
  public String url(ModelVersionRef v) {
    return rest.base() + "#/models/" + v.name() + "/versions/" + v.version();
  }

  private Optional<ModelVersionRef> findByWorkflow(String name, String runId, String workflowId) {
    String filter =
        "name='"
            + name
            + "'"
            + (runId == null || runId.isBlank() ? "" : " and run_id='" + runId + "'");
    String pageToken = "";
    do {
      Map<String, String> query = new HashMap<>(Map.of("filter", filter, "max_results", "200"));
      if (!pageToken.isEmpty()) {
        query.put("page_token", pageToken);
      }
      JsonNode page = rest.get("model-versions/search", query);
      for (JsonNode v : page.path("model_versions")) {
        ModelVersionRef ref = ModelVersionRef.fromJson(v);
        if (workflowId.equals(ref.tags().get(Tracking.WORKFLOW_TAG))) {
          // search results omit aliases; read the version itself
          return Optional.of(version(name, ref.version()));
        }
      }
      pageToken = page.path("next_page_token").asText("");
    } while (!pageToken.isEmpty());
    return Optional.empty();
  }

  private ModelVersionRef createVersion(Registration r) {
    ObjectNode body = MlflowRest.object().put("name", r.modelName()).put("source", r.source());
    if (r.runId() != null && !r.runId().isBlank()) {
      body.put("run_id", r.runId());
    }
    ArrayNode tags = body.putArray("tags");
    Map<String, String> all = new HashMap<>(r.tags());
    all.put(Tracking.WORKFLOW_TAG, r.workflowId());
    all.put(METRIC_TAG_PREFIX + r.metricKey(), Double.toString(r.metricValue()));
    all.forEach((k, v) -> tags.addObject().put("key", k).put("value", v));
    return ModelVersionRef.fromJson(rest.post("model-versions/create", body).path("model_version"));
  }
}
