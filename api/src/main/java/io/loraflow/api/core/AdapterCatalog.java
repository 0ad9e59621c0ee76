package io.loraflow.api.core;

import io.loraflow.activities.cpu.AdapterRegistrar;
import io.loraflow.activities.cpu.AdapterRegistry.ModelVersion;
import io.loraflow.activities.cpu.PromotionPolicy;
import io.loraflow.api.api.AdapterList;
import io.loraflow.api.api.AdapterVersion;
import io.loraflow.api.api.RegisteredAdapter;
import io.loraflow.infra.mlflow.ModelRegistry;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Registered adapters as the API and CLI show them: registered models with their aliases and
 * versions (lineage, metrics, promotion decision), read through the one MLflow registry client.
 * Also resolves a user's {@link VersionSelector} to the run that produced the version.
 */
public final class AdapterCatalog {

  /** Name pattern of registered models (the registry's own rule). */
  public static final String NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,127}";

  private final ModelRegistry registry;
  private final URI mlflow;

  public AdapterCatalog(ModelRegistry registry, URI mlflow) {
    this.registry = registry;
    this.mlflow = mlflow;
  }

  /**
   * Registered models whose name starts with {@code prefix}, each with its newest {@code
   * maxVersions} versions.
   *
   * @param prefix name prefix ("" = all); letters, digits, . _ -
   * @param limit at most this many registered models (1-100)
   * @param maxVersions at most this many versions per model (0-100)
   */
  public AdapterList list(String prefix, int limit, int maxVersions) {
    String p = prefix == null ? "" : prefix;
    if (!p.isEmpty() && !p.matches(NAME_PATTERN)) {
      throw new IllegalArgumentException("prefix must match " + NAME_PATTERN);
    }
    if (limit < 1 || limit > 100 || maxVersions < 0 || maxVersions > 100) {
      throw new IllegalArgumentException("limit must be in [1, 100] and versions in [0, 100]");
    }
    List<RegisteredAdapter> out = new ArrayList<>();
    for (ModelRegistry.RegisteredModel m : mlflow(() -> registry.models(p, limit))) {
      out.add(view(m, maxVersions));
    }
    return new AdapterList(out, p);
  }

  /**
   * One registered model with its newest {@code maxVersions} versions.
   *
   * @throws NotFoundException when there is no such registered model
   */
  public RegisteredAdapter get(String name, int maxVersions) {
    if (name == null || !name.matches(NAME_PATTERN)) {
      throw new IllegalArgumentException("registered model name must match " + NAME_PATTERN);
    }
    for (ModelRegistry.RegisteredModel m : mlflow(() -> registry.models(name, 100))) {
      if (m.name().equals(name)) {
        return view(m, maxVersions);
      }
    }
    throw new NotFoundException(
        "no registered model '"
            + name
            + "' in MLflow at "
            + mlflow
            + "; list them: GET /v1/adapters");
  }

  /**
   * The version a selector names.
   *
   * @throws ModelVersionNotFoundException when MLflow does not know it
   */
  public ModelVersion resolve(VersionSelector ref) {
    return mlflow(
            () ->
                ref.version() != null
                    ? registry.version(ref.name(), ref.version())
                    : registry.versionByAlias(ref.name(), ref.alias()))
        .orElseThrow(
            () ->
                new ModelVersionNotFoundException(
                    "MLflow at "
                        + mlflow
                        + " has no registered model version "
                        + ref
                        + "; list them: GET /v1/adapters"));
  }

  /**
   * The run (workflow id) that produced the version {@code ref} names.
   *
   * @throws ModelVersionNotFoundException when MLflow does not know the version
   * @throws IllegalArgumentException when the version was not registered by a loraflow run
   */
  public String workflowIdOf(VersionSelector ref) {
    ModelVersion v = resolve(ref);
    String id = v.tags().get(AdapterRegistrar.WORKFLOW_TAG);
    if (id == null || id.isBlank()) {
      throw new IllegalArgumentException(
          ref
              + " (version "
              + v.version()
              + ") has no "
              + AdapterRegistrar.WORKFLOW_TAG
              + " tag, so it was not registered by a loraflow run; use a run id instead");
    }
    return id;
  }

  private RegisteredAdapter view(ModelRegistry.RegisteredModel m, int maxVersions) {
    List<AdapterVersion> versions = new ArrayList<>();
    if (maxVersions > 0) {
      for (ModelVersion v : mlflow(() -> registry.versions(m.name(), maxVersions))) {
        versions.add(version(v, m.aliases()));
      }
    }
    return new RegisteredAdapter(
        m.name(),
        m.aliases(),
        m.latestVersion(),
        versions,
        mlflow.toString().replaceAll("/+$", "") + "/#/models/" + m.name());
  }

  static AdapterVersion version(ModelVersion v, Map<String, String> modelAliases) {
    List<String> aliases = new ArrayList<>(v.aliases());
    modelAliases.forEach(
        (alias, version) -> {
          if (version.equals(v.version()) && !aliases.contains(alias)) {
            aliases.add(alias);
          }
        });
    aliases.sort(null);
    Map<String, String> t = v.tags();
    return new AdapterVersion(
        v.version(),
        aliases,
        v.source(),
        t.get(AdapterRegistrar.WORKFLOW_TAG),
        v.runId() == null || v.runId().isEmpty() ? null : v.runId(),
        t.get("loraflow.base_model"),
        t.get("loraflow.dataset_sha256"),
        t.get(PromotionPolicy.EVAL_SET_TAG),
        number(t.get(PromotionPolicy.EVAL_LOSS_TAG)),
        number(t.get("loraflow.eval_loss_base")),
        number(t.get("loraflow.rougeL")),
        t.get(AdapterRegistrar.DECISION_TAG));
  }

  private static Double number(String s) {
    try {
      return s == null ? null : Double.valueOf(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private <T> T mlflow(Supplier<T> call) {
    try {
      return call.get();
    } catch (io.loraflow.infra.mlflow.MlflowRestException e) {
      if (e.isNotFound()) {
        throw new NotFoundException("MLflow at " + mlflow + " has no such registered model");
      }
      throw UpstreamException.mlflow(mlflow, e);
    } catch (IllegalStateException e) {
      throw UpstreamException.mlflow(mlflow, e);
    }
  }
}
