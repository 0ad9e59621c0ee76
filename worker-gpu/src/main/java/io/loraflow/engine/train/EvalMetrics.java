package io.loraflow.engine.train;

/**
 * One held-out evaluation during training.
 *
 * @param step optimizer steps done when it ran
 * @param epoch 0-based epoch of that step's data
 * @param loss mean answer-token cross-entropy over the held-out split (float32, dropout off)
 * @param tokens answer tokens it averaged over
 * @param improved the loss is the best so far (its adapter is now the best adapter)
 * @param bestStep step of the best evaluation so far (this one when improved)
 * @param bestLoss the best loss so far
 * @param stop early stopping ends the run after this evaluation
 */
public record EvalMetrics(
    long step,
    int epoch,
    double loss,
    long tokens,
    boolean improved,
    long bestStep,
    double bestLoss,
    boolean stop) {}
