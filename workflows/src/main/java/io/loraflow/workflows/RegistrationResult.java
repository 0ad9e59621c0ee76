package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/**
 * The registered model version of a run.
 *
 * @param modelName registered model name
 * @param version model version (MLflow numbers them "1", "2", ...)
 * @param aliases aliases now pointing at this version ("candidate", maybe "champion")
 * @param promoted true when this run moved "champion" to this version
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RegistrationResult(
    String modelName, String version, List<String> aliases, boolean promoted) {

  public RegistrationResult {
    aliases = aliases == null ? List.of() : List.copyOf(aliases);
  }
}
