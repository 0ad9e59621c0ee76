package io.loraflow.infra.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraflow.activities.cpu.AdapterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one MLflow model-registry client (over MLflow's REST API): what the pipeline's
 * registerAdapter needs ({@link AdapterRegistry}: versions, tags, aliases) and what the API reads
 * (registered models, their versions, a version by number or alias). The registration flow and the
 * promotion policy are not here: {@code activities.cpu.AdapterRegistrar} and {@code
 * PromotionPolicy}.
 */
public final class ModelRegistry implements AdapterRegistry {

  /** Largest page MLflow's search endpoints serve. */
  private static final int PAGE = 200;

  private final MlflowRest rest;

  public ModelRegistry(MlflowRest rest) {
    this.rest = rest;
  }

  /**
   * A registered model with its aliases.
   *
   * @param name registered model name
   * @param aliases alias -> version, e.g. {champion: "3", candidate: "4"}
   * @param latestVersion the newest version number ("" when none)
   * @param lastUpdated MLflow's last_updated_timestamp, ms since the epoch
   */
  public record RegisteredModel(
      String name, Map<String, String> aliases, String latestVersion, long lastUpdated) {
    public RegisteredModel {
      aliases = Map.copyOf(aliases);
    }
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

  /** One version with its tags and aliases; empty when the model or the version does not exist. */
  public Optional<ModelVersion> version(String name, String version) {
    try {
      return Optional.of(
          fromJson(
              rest.get("model-versions/get", Map.of("name", name, "version", version))
                  .path("model_version")));
    } catch (MlflowRestException e) {
      if (e.isNotFound() || "INVALID_PARAMETER_VALUE".equals(e.errorCode())) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** The version {@code alias} points at, with its tags and aliases. */
  @Override
  public Optional<ModelVersion> versionByAlias(String name, String alias) {
    try {
      return Optional.of(
          fromJson(
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

  @Override
  public void setVersionTag(String name, String version, String key, String value) {
    rest.post(
        "model-versions/set-tag",
        MlflowRest.object()
            .put("name", name)
            .put("version", version)
            .put("key", key)
            .put("value", value));
  }

  @Override
  public Optional<ModelVersion> findVersionByTag(String name, String key, String value) {
    for (ModelVersion v : versions(name, Integer.MAX_VALUE)) {
      if (value.equals(v.tags().get(key))) {
        return version(name, v.version()); // search results omit aliases; read the version
      }
    }
    return Optional.empty();
  }

  @Override
  public ModelVersion createVersion(
      String modelName, String source, String mlflowRunId, Map<String, String> tags) {
    ensureRegisteredModel(modelName);
    // one call creates the version with all its tags, so no crash leaves an untagged version
    ObjectNode body = MlflowRest.object().put("name", modelName).put("source", source);
    if (mlflowRunId != null && !mlflowRunId.isBlank()) {
      body.put("run_id", mlflowRunId);
    }
    ArrayNode tagArray = body.putArray("tags");
    tags.forEach((k, v) -> tagArray.addObject().put("key", k).put("value", v));
    return fromJson(rest.post("model-versions/create", body).path("model_version"));
  }

  /**
   * Versions of {@code name}, newest first, at most {@code max} (tags included, aliases not:
   * MLflow's search omits them; see {@link RegisteredModel#aliases()}).
   */
  public List<ModelVersion> versions(String name, int max) {
    return search(
        "model-versions/search",
        "name='" + quote(name) + "'",
        "version_number DESC",
        "model_versions",
        max,
        ModelRegistry::fromJson);
  }

  /** Registered models whose name starts with {@code prefix}, by name, at most {@code max}. */
  public List<RegisteredModel> models(String prefix, int max) {
    return search(
        "registered-models/search",
        "name LIKE '" + quote(prefix) + "%'",
        "name ASC",
        "registered_models",
        max,
        m -> {
          if (!m.path("name").asText().startsWith(prefix)) {
            return null; // '_' and '%' in the prefix are LIKE wildcards: keep only the literal
            // match
          }
          Map<String, String> aliases = new LinkedHashMap<>();
          for (JsonNode a : m.path("aliases")) {
            aliases.put(a.path("alias").asText(), a.path("version").asText());
          }
          String latest = "";
          for (JsonNode v : m.path("latest_versions")) {
            String n = v.path("version").asText();
            if (latest.isEmpty() || Long.parseLong(n) > Long.parseLong(latest)) {
              latest = n;
            }
          }
          return new RegisteredModel(
              m.path("name").asText(), aliases, latest, m.path("last_updated_timestamp").asLong(0));
        });
  }

  /**
   * One MLflow search endpoint, page by page, until {@code max} results or the last page: each
   * element of {@code arrayKey} through {@code map} (null: skipped, not counted).
   */
  private <T> List<T> search(
      String endpoint,
      String filter,
      String orderBy,
      String arrayKey,
      int max,
      java.util.function.Function<JsonNode, T> map) {
    List<T> out = new ArrayList<>();
    String pageToken = "";
    do {
      Map<String, String> query =
          new HashMap<>(
              Map.of(
                  "filter",
                  filter,
                  "max_results",
                  String.valueOf(Math.min(PAGE, max - out.size())),
                  "order_by",
                  orderBy));
      if (!pageToken.isEmpty()) {
        query.put("page_token", pageToken);
      }
      JsonNode page = rest.get(endpoint, query);
      for (JsonNode e : page.path(arrayKey)) {
        if (out.size() >= max) {
          break;
        }
        T value = map.apply(e);
        if (value != null) {
          out.add(value);
        }
      }
      pageToken = page.path("next_page_token").asText("");
    } while (!pageToken.isEmpty() && out.size() < max);
    return out;
  }

  /** The version's page in the MLflow UI. */
  public String url(ModelVersion v) {
    return rest.base() + "#/models/" + v.modelName() + "/versions/" + v.version();
  }

  /**
   * A filter string literal. Callers pass registered model names (letters, digits, . _ -); quotes
   * and backslashes are escaped anyway so that no name can change the filter.
   */
  private static String quote(String s) {
    return s.replace("\\", "\\\\").replace("'", "\\'");
  }

  static ModelVersion fromJson(JsonNode v) {
    Map<String, String> tags = new HashMap<>();
    for (JsonNode t : v.path("tags")) {
      tags.put(t.path("key").asText(), t.path("value").asText());
    }
    List<String> aliases = new ArrayList<>();
    for (JsonNode a : v.path("aliases")) {
      aliases.add(a.asText());
    }
    return new ModelVersion(
        v.path("name").asText(),
        v.path("version").asText(),
        v.path("source").asText(),
        v.path("run_id").asText(),
        tags,
        aliases);
  }
}
