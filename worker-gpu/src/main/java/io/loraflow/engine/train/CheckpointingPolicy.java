package io.loraflow.engine.train;

import io.loraflow.engine.model.ModelConfig;

/**
 * Whether a GPU run recomputes its blocks in backward (gradient checkpointing). Recomputing saves
 * what backward would otherwise keep: every block's activations and, on the NF4 base, every
 * dequantized frozen weight (fp16, 2 bytes per linear parameter, saved for the input gradient). For
 * a small model that is a few hundred MiB while the second forward costs ~30% of the step
 * (SmolLM2-135M on an H200: 0.22 s -> 0.15 s per step without it, bench/results/fastpath_h200.md),
 * so checkpointing stays on only when keeping everything would take more than {@link #BUDGET_BYTES}
 * or {@link #BUDGET_FRACTION} of the device, whichever is less. A CPU run never checkpoints
 * (TrainConfig.of). The decision is part of the run's config, so a resume keeps it.
 */
public final class CheckpointingPolicy {

  /** Largest saved-for-backward estimate that turns checkpointing off: 2 GiB. */
  static final long BUDGET_BYTES = 2L << 30;

  /** ... and at most this share of the device's memory. */
  static final double BUDGET_FRACTION = 0.05;

  private CheckpointingPolicy() {}

  /**
   * Bytes backward keeps without recomputation, estimated: fp16 dequantized frozen weights (2 per
   * linear parameter) plus per token and layer ~24 hidden-size and 4 intermediate-size fp16
   * activations (norm inputs/outputs, q/k/v/o, residuals, gate/up/silu, LoRA down projections and
   * dropout masks), plus the head's (tokens, vocab) fp16 logits and float32 log-probabilities.
   */
  public static long keptBytes(ModelConfig m, long linearParams, int batch, int seqLen) {
    long tokens = (long) batch * seqLen;
    long perTokenLayer = 2L * (24L * m.hiddenSize() + 4L * m.intermediateSize());
    long head = tokens * m.vocabSize() * 6L;
    return 2L * linearParams + tokens * m.numLayers() * perTokenLayer + head;
  }

  /**
   * What {@link #resolve} decided.
   *
   * @param config the config to train with
   * @param keptBytes the estimate of what backward keeps without recomputation ({@link
   *     #keptBytes}), or -1 when nothing was estimated (checkpointing already off, a CPU, an
   *     unknown device size)
   * @param budgetBytes the budget it was held against, -1 likewise
   */
  public record Decision(TrainConfig config, long keptBytes, long budgetBytes) {
    /** True when checkpointing was asked for and turned off. */
    public boolean turnedOff() {
      return keptBytes >= 0 && keptBytes <= budgetBytes;
    }
  }

  /**
   * {@code config} with gradient checkpointing decided for this model and device; unchanged on a
   * CPU or when checkpointing is already off.
   *
   * @param linearParams parameters of the frozen linear layers (the NF4 base)
   * @param deviceBytes total memory of the training device, or <= 0 if unknown (then on)
   */
  public static Decision resolve(
      TrainConfig config, ModelConfig model, long linearParams, long deviceBytes) {
    return resolve(config, model, linearParams, deviceBytes, config.maxSeqLen());
  }

  /**
   * The same for a dataset whose longest row has {@code longestRow} tokens: rows are padded to the
   * longest of their batch only, so a 512-token limit over answers of ~90 tokens keeps ~90 tokens'
   * activations per row, not 512 (a packed dataset's rows are maxSeqLen long: pass that).
   */
  public static Decision resolve(
      TrainConfig config, ModelConfig model, long linearParams, long deviceBytes, int longestRow) {
    if (!config.gradientCheckpointing() || deviceBytes <= 0) {
      return new Decision(config, -1, -1);
    }
    long budget = Math.min(BUDGET_BYTES, (long) (deviceBytes * BUDGET_FRACTION));
    int seqLen = Math.max(1, Math.min(config.maxSeqLen(), longestRow));
    long kept = keptBytes(model, linearParams, config.batchSize(), seqLen);
    if (kept > budget) {
      return new Decision(config, kept, budget);
    }
    TrainConfig.Builder b = config.toBuilder();
    b.gradientCheckpointing = false;
    return new Decision(b.build(), kept, budget);
  }
}
