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
 * @param decision why this version was or was not promoted, in one sentence naming both eval losses
 *     and the held-out set they were measured on
 * @param evalSetSha256 sha256 of the tokenized held-out split this version was scored on (empty
 *     when unknown)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RegistrationResult(
    String modelName,
    String version,
    List<String> aliases,
    boolean promoted,
    String decision,
    String evalSetSha256) {

  public RegistrationResult {
    aliases = aliases == null ? List.of() : List.copyOf(aliases);
    decision = decision == null ? "" : decision;
    evalSetSha256 = evalSetSha256 == null ? "" : evalSetSha256;
  }
}
