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
 * @param numSeenPrompts how many training questions ("seen") are answered and scored beside the
 *     held-out ones, with their loss (default 16; 0 = held-out only)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record EvaluationSpec(
    Integer maxNewTokens, Integer numPrompts, Long seed, Integer numSeenPrompts) {

  public EvaluationSpec {
    maxNewTokens = maxNewTokens == null ? 128 : maxNewTokens;
    numPrompts = numPrompts == null ? 16 : numPrompts;
    seed = seed == null ? 42L : seed;
    numSeenPrompts = numSeenPrompts == null ? 16 : numSeenPrompts;
  }

  /** The spec without numSeenPrompts (it takes its default). */
  public EvaluationSpec(Integer maxNewTokens, Integer numPrompts, Long seed) {
    this(maxNewTokens, numPrompts, seed, null);
  }

  public static EvaluationSpec defaults() {
    return new EvaluationSpec(null, null, null, null);
  }

  public List<String> problems() {
    List<String> p = new ArrayList<>();
    TrainingSpec.range(p, "evaluation.maxNewTokens", maxNewTokens, 1, 8192);
    TrainingSpec.range(p, "evaluation.numPrompts", numPrompts, 0, 100_000);
    TrainingSpec.range(p, "evaluation.numSeenPrompts", numSeenPrompts, 0, 100_000);
    return p;
  }
}
