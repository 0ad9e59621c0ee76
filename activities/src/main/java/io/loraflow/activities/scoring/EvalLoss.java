package io.loraflow.activities.scoring;

/**
 * Token-weighted mean cross-entropy over the answer tokens (labels != -100) of an eval split, and
 * its perplexity. Batches add their summed negative log-likelihood (nats) and token count, so the
 * result is the mean over tokens, not a mean of per-example means. Not thread-safe.
 */
public final class EvalLoss {

  private double sumNll;
  private long tokens;

  /**
   * @param batchNllSum sum over the batch's answer tokens of -log p(token), in nats
   * @param batchTokens number of those tokens
   */
  public void add(double batchNllSum, long batchTokens) {
    if (batchTokens < 0 || Double.isNaN(batchNllSum) || batchNllSum < 0) {
      throw new IllegalArgumentException(
          "batch NLL sum must be >= 0 and tokens >= 0, got "
              + batchNllSum
              + " over "
              + batchTokens);
    }
    sumNll += batchNllSum;
    tokens += batchTokens;
  }

  /** Adds a batch whose loss is the mean over its tokens (as a training step reports it). */
  public void addMean(double batchMeanLoss, long batchTokens) {
    add(batchMeanLoss * batchTokens, batchTokens);
  }

  public long tokens() {
    return tokens;
  }

  /** Mean NLL per answer token in nats; NaN before any token. */
  public double mean() {
    return tokens == 0 ? Double.NaN : sumNll / tokens;
  }

  /** exp(mean). */
  public double perplexity() {
    return Math.exp(mean());
  }
}
