package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Base model vs adapter on the held-out split (and, in {@code seen}, on a sample of the training
 * questions).
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
 * @param seen the same comparison on sampled training questions; null when none were sampled (or
 *     for runs older than the field)
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
    String reportHtmlKey,
    SeenEval seen) {

  /** A held-out-only result. */
  public EvalResult(
      double baseEvalLoss,
      double adapterEvalLoss,
      double basePerplexity,
      double adapterPerplexity,
      Scores base,
      Scores adapter,
      int numPrompts,
      String reportJsonKey,
      String reportHtmlKey) {
    this(
        baseEvalLoss,
        adapterEvalLoss,
        basePerplexity,
        adapterPerplexity,
        base,
        adapter,
        numPrompts,
        reportJsonKey,
        reportHtmlKey,
        null);
  }

  /** Relative eval-loss change, e.g. -0.25 when the adapter's loss is 25% lower. */
  public double relativeLossChange() {
    return baseEvalLoss == 0 ? 0 : (adapterEvalLoss - baseEvalLoss) / baseEvalLoss;
  }
}
