package io.loraflow.engine.train;

/**
 * What one optimizer step reports.
 *
 * @param step optimizer steps done, 1-based
 * @param totalSteps optimizer steps of the whole run
 * @param epoch 0-based epoch of the step's data
 * @param loss mean token cross-entropy of the step (over its micro-batches)
 * @param learningRate lr used by this step
 * @param gradNorm global L2 norm of the unscaled LoRA gradients before clipping (NaN if overflow)
 * @param lossScale fp16 loss scale used by this step (1 in fp32)
 * @param skipped true when inf/NaN gradients made the step skip its update
 * @param tokensPerSecond input tokens (padding excluded) per wall-clock second of this step
 * @param memoryBytes device memory in use (GPU) or resident set size (CPU), -1 if unknown
 */
public record StepMetrics(
    long step,
    long totalSteps,
    int epoch,
    double loss,
    double learningRate,
    double gradNorm,
    double lossScale,
    boolean skipped,
    double tokensPerSecond,
    long memoryBytes) {}
