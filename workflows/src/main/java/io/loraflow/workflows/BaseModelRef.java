package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/**
 * A base model cached in the object store by prepareBaseModel.
 *
 * @param baseModel the run spec's baseModel (alias or URI)
 * @param storageName directory under models/ ({@link BaseModels#storageName})
 * @param modelKey the weights: a GGUF file key or the model directory prefix under models/
 * @param tokenizerKey {@code models/<name>/tokenizer.json}
 * @param chatTemplate the model's chat template (Jinja source) or null when it has none
 * @param eosTokenIds end-of-sequence token ids (the first one is appended to every example)
 * @param architecture e.g. "llama", "falcon"
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record BaseModelRef(
    String baseModel,
    String storageName,
    String modelKey,
    String tokenizerKey,
    String chatTemplate,
    List<Integer> eosTokenIds,
    String architecture) {

  public BaseModelRef {
    eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
  }
}
