package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the adapter is registered in the MLflow model registry.
 *
 * @param modelName registered model name; null = "loraflow-" + the base model's storage name
 * @param promote when true (default) the new version takes the "champion" alias if its adapter eval
 *     loss beats the current champion's (or there is none); it always gets "candidate"
 * @param register when true (default) the run registers its adapter; a {@code Sweep} starts its
 *     children with false and registers only the best child's adapter
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RegistrySpec(String modelName, Boolean promote, Boolean register) {

  public RegistrySpec {
    modelName = modelName == null || modelName.isBlank() ? null : modelName.trim();
    promote = promote == null ? Boolean.TRUE : promote;
    register = register == null ? Boolean.TRUE : register;
  }

  /** Name and promotion; the run registers. */
  public RegistrySpec(String modelName, Boolean promote) {
    this(modelName, promote, null);
  }

  public static RegistrySpec defaults() {
    return new RegistrySpec(null, null, null);
  }

  public List<String> problems() {
    List<String> p = new ArrayList<>();
    if (modelName != null && !modelName.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
      p.add(
          "registry.modelName '"
              + modelName
              + "' must be 1-128 characters of letters, digits, '.', '_' or '-'");
    }
    return p;
  }
}
