package io.loraflow.activities.cpu;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The model registry operations registerAdapter needs (MLflow's registered models, versions, tags
 * and aliases). Implemented by the one MLflow registry client, {@code infra.mlflow.ModelRegistry};
 * the idempotency and the promotion policy live in {@link AdapterRegistrar} and {@link
 * PromotionPolicy}, not in implementations.
 */
public interface AdapterRegistry {

  /**
   * A registered model version.
   *
   * @param modelName registered model name
   * @param version "1", "2", ...
   * @param source where the adapter lives, e.g. {@code s3://loraflow/runs/<id>/adapter/}
   * @param runId the linked MLflow run id ("" when none)
   * @param tags version tags (loraflow.* tags: workflow id, eval losses, held-out set, dataset)
   * @param aliases aliases pointing at this version (search results omit them: read the version)
   */
  record ModelVersion(
      String modelName,
      String version,
      String source,
      String runId,
      Map<String, String> tags,
      List<String> aliases) {
    public ModelVersion {
      tags = tags == null ? Map.of() : Map.copyOf(tags);
      aliases = aliases == null ? List.of() : List.copyOf(aliases);
    }

    public ModelVersion(
        String modelName, String version, String source, String runId, Map<String, String> tags) {
      this(modelName, version, source, runId, tags, List.of());
    }
  }

  /** The version of {@code modelName} whose tag {@code key} equals {@code value}, if any. */
  Optional<ModelVersion> findVersionByTag(String modelName, String key, String value)
      throws IOException;

  /**
   * Creates a new version (and the registered model when missing) with the given source URI (e.g.
   * {@code s3://loraflow/runs/<id>/adapter/}), linked MLflow run and tags.
   */
  ModelVersion createVersion(
      String modelName, String source, String mlflowRunId, Map<String, String> tags)
      throws IOException;

  /** The version an alias points at, if the alias exists. */
  Optional<ModelVersion> versionByAlias(String modelName, String alias) throws IOException;

  /** Points {@code alias} at {@code version} (moving it when it pointed elsewhere). */
  void setAlias(String modelName, String alias, String version) throws IOException;

  /** Sets (or overwrites) one tag of a version. */
  void setVersionTag(String modelName, String version, String key, String value) throws IOException;
}
