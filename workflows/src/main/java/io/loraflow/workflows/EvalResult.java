package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Base model vs adapter on the held-out split.
 *
 * @param baseEvalLoss mean token cross-entropy of the answers (labels != -100) under the base model
 * @param adapterEvalLoss the same with the adapter
 * @param basePerplexity exp(baseEvalLoss)
 * @param adapterPerplexity exp(adapterEvalLoss)
 * @param base answer scores of the base model
 * @param adapter answer scores with the adapter
 * @param numPrompts prompts answered by each
 * @param reportJsonKey {@code runs/<id>/eval/report.json} (every prompt, both answers, scores)
 * @param reportHtmlKey {@code runs/<id>/eval/report.html}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record EvalResult(
    double baseEvalLoss,
    double adapterEvalLoss,
    double basePerplexity,
    double adapterPerplexity,
    Scores base,
    Scores adapter,
    int numPrompts,
    String reportJsonKey,
    String reportHtmlKey) {

  /** Relative eval-loss change, e.g. -0.25 when the adapter's loss is 25% lower. */
  public double relativeLossChange() {
    return baseEvalLoss == 0 ? 0 : (adapterEvalLoss - baseEvalLoss) / baseEvalLoss;
  }
}
