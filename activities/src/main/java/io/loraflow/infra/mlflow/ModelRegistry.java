package io.loraflow.infra.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraflow.activities.cpu.AdapterRegistry;
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
public final class ModelRegistry implements AdapterRegistry {
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
    Optional<ModelVersionRef> existing =
        findByTag(r.modelName(), r.runId(), Tracking.WORKFLOW_TAG, r.workflowId());
    ModelVersionRef version = existing.orElseGet(() -> createVersion(r));
    setAlias(r.modelName(), CANDIDATE, version.version());

    String metricTag = METRIC_TAG_PREFIX + r.metricKey();
    Optional<ModelVersionRef> champion = aliasTarget(r.modelName(), CHAMPION);
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

  /** The version {@code alias} points at, with its tags and aliases. */
  public Optional<ModelVersionRef> aliasTarget(String name, String alias) {
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

  @Override
  public void setAlias(String name, String alias, String version) {
    rest.post(
        "registered-models/alias",
        MlflowRest.object().put("name", name).put("alias", alias).put("version", version));
  }

  // ---------------------------------------------------------- the pipeline's seam
  // (AdapterRegistry)

  @Override
  public Optional<ModelVersion> findVersionByTag(String modelName, String key, String value) {
    return findByTag(modelName, null, key, value).map(ModelRegistry::plain);
  }

  @Override
  public ModelVersion createVersion(
      String modelName, String source, String mlflowRunId, Map<String, String> tags) {
    ensureRegisteredModel(modelName);
    return plain(create(modelName, source, mlflowRunId, tags));
  }

  @Override
  public Optional<ModelVersion> versionByAlias(String modelName, String alias) {
    return aliasTarget(modelName, alias).map(ModelRegistry::plain);
  }

  private static ModelVersion plain(ModelVersionRef v) {
    return new ModelVersion(v.name(), v.version(), v.source(), v.runId(), v.tags());
  }

  /** The version's page in the MLflow UI. */
  public String url(ModelVersionRef v) {
    return rest.base() + "#/models/" + v.name() + "/versions/" + v.version();
  }

  private Optional<ModelVersionRef> findByTag(
      String name, String runId, String tagKey, String tagValue) {
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
        if (tagValue.equals(ref.tags().get(tagKey))) {
          // search results omit aliases; read the version itself
          return Optional.of(version(name, ref.version()));
        }
      }
      pageToken = page.path("next_page_token").asText("");
    } while (!pageToken.isEmpty());
    return Optional.empty();
  }

  private ModelVersionRef createVersion(Registration r) {
    Map<String, String> all = new HashMap<>(r.tags());
    all.put(Tracking.WORKFLOW_TAG, r.workflowId());
    all.put(METRIC_TAG_PREFIX + r.metricKey(), Double.toString(r.metricValue()));
    return create(r.modelName(), r.source(), r.runId(), all);
  }

  /** One call creates the version with all its tags, so no crash leaves an untagged version. */
  private ModelVersionRef create(
      String name, String source, String runId, Map<String, String> tags) {
    ObjectNode body = MlflowRest.object().put("name", name).put("source", source);
    if (runId != null && !runId.isBlank()) {
      body.put("run_id", runId);
    }
    ArrayNode tagArray = body.putArray("tags");
    tags.forEach((k, v) -> tagArray.addObject().put("key", k).put("value", v));
    return ModelVersionRef.fromJson(rest.post("model-versions/create", body).path("model_version"));
  }
}
