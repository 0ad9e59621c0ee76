package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.List;

/**
 * How the adapter is evaluated against the base model on the held-out split.
 *
 * @param maxNewTokens generation budget per answer (default 128)
 * @param numPrompts how many held-out questions are answered by base and adapter (default 16; the
 *     eval loss always uses the whole eval split)
 * @param seed sampling seed; generation is greedy, the seed picks the prompts (default 42)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record EvaluationSpec(Integer maxNewTokens, Integer numPrompts, Long seed) {

  public EvaluationSpec {
    maxNewTokens = maxNewTokens == null ? 128 : maxNewTokens;
    numPrompts = numPrompts == null ? 16 : numPrompts;
    seed = seed == null ? 42L : seed;
  }

  public static EvaluationSpec defaults() {
    return new EvaluationSpec(null, null, null);
  }

  public List<String> problems() {
    List<String> p = new ArrayList<>();
    TrainingSpec.range(p, "evaluation.maxNewTokens", maxNewTokens, 1, 8192);
    TrainingSpec.range(p, "evaluation.numPrompts", numPrompts, 0, 100_000);
    return p;
  }
}
