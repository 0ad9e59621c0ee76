package io.loraflow.activities.cpu;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/**
 * The model registry operations registerAdapter needs (MLflow's registered models, versions, tags
 * and aliases). Implemented by the infrastructure's MLflow client; the idempotency and promotion
 * policy live in {@link CpuActivitiesImpl}, not in implementations.
 */
public interface AdapterRegistry {

  /** A registered model version. */
  record ModelVersion(
      String modelName, String version, String source, String runId, Map<String, String> tags) {
    public ModelVersion {
      tags = tags == null ? Map.of() : Map.copyOf(tags);
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
}
