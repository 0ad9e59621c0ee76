package io.loraflow.engine.train;

import io.loraflow.engine.lora.BaseFormat;
import io.loraflow.engine.lora.LoraConfig;
import io.loraflow.engine.model.ModelConfig;
import io.loraflow.workflows.TrainingSpec;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Every knob of a QLoRA run in one validated record. {@link #defaults()} is the user's reference
 * run (the Falcon-7B QLoRA recipe): 1 epoch, batch 1, lr 2e-4, cosine with 5% warmup, 8-bit AdamW,
 * gradient checkpointing, LoRA r 16 / alpha 32 / dropout 0.05, fp16 compute, NF4 base with double
 * quantization, max grad norm 0.3 (the QLoRA paper's and the reference run's value; HF's default is
 * 1.0, too loose for lr 2e-4 on a quantized base).
 *
 * <p>Defaults live in one place each: the knobs a run spec exposes in {@link TrainingSpec} (the
 * contract every front door shows), the engine-only ones in {@link #of}, the one mapping from a
 * spec to this record (used by the train activity and {@code loraflow train}).
 *
 * @param epochs passes over the training data, >= 1
 * @param batchSize sequences per micro-batch, >= 1
 * @param gradAccumulation micro-batches per optimizer step, >= 1
 * @param learningRate peak learning rate, > 0
 * @param schedule decay after warmup
 * @param warmupRatio fraction of the optimizer steps spent warming up linearly from 0, in [0, 1)
 * @param optimizer AdamW with float32 or 8-bit blockwise moments
 * @param adamBeta1 first-moment decay
 * @param adamBeta2 second-moment decay
 * @param adamEpsilon denominator epsilon
 * @param weightDecay decoupled weight decay on LoRA weights, >= 0
 * @param maxGradNorm global L2 clip of the LoRA gradients, > 0 (0 disables clipping)
 * @param loraR LoRA rank
 * @param loraAlpha LoRA alpha (scaling alpha / r)
 * @param loraDropout dropout on the LoRA input
 * @param targetModules LoRA targets; empty = the family default ({@link #resolvedTargets})
 * @param baseFormat storage of the frozen base
 * @param precision compute dtype of activations and frozen weights
 * @param gradientCheckpointing keep only block inputs in forward; recompute blocks in backward
 * @param maxSeqLen longest training sequence in tokens (longer examples are truncated)
 * @param packing concatenate examples into maxSeqLen rows instead of padding each
 * @param seed seeds data order, LoRA init and dropout masks
 * @param initialLossScale fp16 dynamic loss scale to start from (torch GradScaler: 65536)
 * @param lossScaleGrowthInterval good steps before the loss scale doubles (torch: 2000)
 * @param checkpointEvery write a checkpoint every N optimizer steps (0 = only on request / at end)
 * @param logEvery report metrics every N optimizer steps
 * @param evalPolicy held-out evaluation during training and early stopping ({@link EvalPolicy#OFF}
 *     when absent, e.g. in a checkpoint written before the field existed)
 */
public record TrainConfig(
    int epochs,
    int batchSize,
    int gradAccumulation,
    double learningRate,
    Schedule schedule,
    double warmupRatio,
    OptimizerKind optimizer,
    double adamBeta1,
    double adamBeta2,
    double adamEpsilon,
    double weightDecay,
    double maxGradNorm,
    int loraR,
    double loraAlpha,
    double loraDropout,
    List<String> targetModules,
    BaseFormat baseFormat,
    Precision precision,
    boolean gradientCheckpointing,
    int maxSeqLen,
    boolean packing,
    long seed,
    double initialLossScale,
    int lossScaleGrowthInterval,
    int checkpointEvery,
    int logEvery,
    EvalPolicy evalPolicy) {

  /** Learning-rate decay after warmup (HF get_*_schedule_with_warmup). */
  public enum Schedule {
    COSINE,
    LINEAR,
    CONSTANT
  }

  /** Optimizer state precision. */
  public enum OptimizerKind {
    ADAMW,
    ADAMW_8BIT
  }

  /** Compute dtype. */
  public enum Precision {
    FP16,
    FP32
  }

  public TrainConfig {
    Objects.requireNonNull(schedule, "schedule");
    Objects.requireNonNull(optimizer, "optimizer");
    Objects.requireNonNull(baseFormat, "baseFormat");
    Objects.requireNonNull(precision, "precision");
    targetModules = List.copyOf(Objects.requireNonNull(targetModules, "targetModules"));
    evalPolicy = evalPolicy == null ? EvalPolicy.OFF : evalPolicy;
    atLeast("epochs", epochs, 1, "--epochs 1");
    atLeast("batch size", batchSize, 1, "--batch-size 1");
    atLeast("gradient accumulation", gradAccumulation, 1, "--grad-accum 1");
    if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
      throw new IllegalArgumentException(
          "learning rate must be > 0, got " + learningRate + " (QLoRA uses 2e-4: --lr 2e-4)");
    }
    if (!(warmupRatio >= 0 && warmupRatio < 1)) {
      throw new IllegalArgumentException(
          "warmup ratio must be in [0, 1), got " + warmupRatio + " (default 0.05)");
    }
    if (!(adamBeta1 >= 0 && adamBeta1 < 1) || !(adamBeta2 >= 0 && adamBeta2 < 1)) {
      throw new IllegalArgumentException(
          "Adam betas must be in [0, 1), got " + adamBeta1 + ", " + adamBeta2);
    }
    if (!(adamEpsilon > 0)) {
      throw new IllegalArgumentException("Adam epsilon must be > 0, got " + adamEpsilon);
    }
    if (!(weightDecay >= 0)) {
      throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
    }
    if (!(maxGradNorm >= 0)) {
      throw new IllegalArgumentException(
          "max grad norm must be >= 0 (0 disables clipping), got " + maxGradNorm);
    }
    atLeast("max sequence length", maxSeqLen, 2, "--max-seq-len 512");
    if (!(initialLossScale >= 1)) {
      throw new IllegalArgumentException(
          "initial loss scale must be >= 1, got " + initialLossScale);
    }
    atLeast("loss scale growth interval", lossScaleGrowthInterval, 1, "2000");
    if (checkpointEvery < 0) {
      throw new IllegalArgumentException(
          "checkpoint interval must be >= 0 steps (0 = only at the end), got " + checkpointEvery);
    }
    atLeast("log interval", logEvery, 1, "--log-every 1");
    // validates r, alpha, dropout and the target names now (fields are not assigned yet)
    LoraConfig.of(
        loraR,
        loraAlpha,
        loraDropout,
        targetModules.isEmpty() ? List.of(LoraConfig.ALL_LINEAR) : targetModules);
  }

  /** The reference run on a GPU: {@link TrainingSpec#defaults()} mapped by {@link #of}. */
  public static TrainConfig defaults() {
    return of(TrainingSpec.defaults(), true);
  }

  /**
   * The run spec's training section as the engine's config: the one mapping. Knobs the spec does
   * not expose take the engine's values here: Adam betas 0.9/0.999, epsilon 1e-8, no weight decay,
   * max grad norm 0.3, NF4 base with double quantization, no packing, loss scale 65536 doubling
   * after 2000 good steps, metrics every step.
   *
   * @param onGpu resolves precision "auto" (fp16 on a GPU, fp32 on a CPU) and turns gradient
   *     checkpointing on for a GPU only: it saves GPU memory, while on a CPU memory is not the
   *     limit for the models it can train in reasonable time, so the second forward is skipped
   *     there (same numbers, ~25% less work)
   * @throws IllegalArgumentException naming every problem of the spec (field, value, range)
   */
  public static TrainConfig of(TrainingSpec spec, boolean onGpu) {
    List<String> problems = spec.problems();
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
    Precision precision =
        switch (spec.precision()) {
          case "fp16" -> Precision.FP16;
          case "fp32" -> Precision.FP32;
          default -> onGpu ? Precision.FP16 : Precision.FP32;
        };
    return new TrainConfig(
        spec.epochs(),
        spec.batchSize(),
        spec.gradAccum(),
        spec.learningRate(),
        Schedule.valueOf(spec.schedule().toUpperCase(Locale.ROOT)),
        spec.warmupRatio(),
        spec.optimizer().equals("adamw8bit") ? OptimizerKind.ADAMW_8BIT : OptimizerKind.ADAMW,
        0.9,
        0.999,
        1e-8,
        0.0,
        0.3,
        spec.loraR(),
        spec.loraAlpha(),
        spec.loraDropout(),
        spec.targetModules(),
        BaseFormat.NF4,
        precision,
        onGpu,
        spec.maxSeqLen(),
        false,
        spec.seed(),
        65536,
        2000,
        spec.checkpointEverySteps(),
        1,
        // held-out loss at every epoch end (and every evalEverySteps), early stopping on it; a
        // trainer given no held-out split skips both
        new EvalPolicy(
            spec.evalEverySteps(),
            true,
            spec.earlyStoppingPatience(),
            spec.earlyStoppingMinDelta()));
  }

  /**
   * The LoRA targets for a model family when none are given: Falcon's fused {@code query_key_value}
   * (the reference run), every linear layer for the Llama family (the QLoRA paper's
   * recommendation).
   */
  public List<String> resolvedTargets(ModelConfig.Family family) {
    if (!targetModules.isEmpty()) {
      return targetModules;
    }
    return family == ModelConfig.Family.FALCON
        ? List.of("query_key_value")
        : List.of(LoraConfig.ALL_LINEAR);
  }

  /** The LoRA config with {@code targets}. */
  public LoraConfig lora(List<String> targets) {
    return LoraConfig.of(loraR, loraAlpha, loraDropout, targets);
  }

  /**
   * Checks this run against the model before any weight is read: sequence length within the model's
   * maximum and every LoRA target present among {@code linearModules} (HF module paths).
   */
  public void validateAgainst(ModelConfig model, List<String> linearModules, String modelName) {
    if (maxSeqLen > model.maxPositions()) {
      throw new IllegalArgumentException(
          "max sequence length "
              + maxSeqLen
              + " exceeds the model's maximum "
              + model.maxPositions()
              + " ("
              + modelName
              + "); set --max-seq-len "
              + model.maxPositions()
              + " or less");
    }
    LoraConfig lora = lora(resolvedTargets(model.family()));
    List<String> unmatched =
        io.loraflow.engine.lora.LoraLinearFactory.unmatchedTargets(lora, linearModules);
    if (!unmatched.isEmpty()) {
      throw new IllegalArgumentException(
          "LoRA target module(s) "
              + unmatched
              + " match no linear module of "
              + modelName
              + "; its linear modules end in "
              + io.loraflow.engine.lora.LoraLinearFactory.moduleSuffixes(linearModules)
              + " (set --targets to some of these, or all-linear)");
    }
  }

  /** A builder seeded with this config, for the CLI and tests. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  private static void atLeast(String what, long value, long min, String example) {
    if (value < min) {
      throw new IllegalArgumentException(
          what + " must be >= " + min + ", got " + value + " (e.g. " + example + ")");
    }
  }

  /** Mutable copy of a config; {@link #build()} validates. */
  public static final class Builder {
    public int epochs;
    public int batchSize;
    public int gradAccumulation;
    public double learningRate;
    public Schedule schedule;
    public double warmupRatio;
    public OptimizerKind optimizer;
    public double adamBeta1;
    public double adamBeta2;
    public double adamEpsilon;
    public double weightDecay;
    public double maxGradNorm;
    public int loraR;
    public double loraAlpha;
    public double loraDropout;
    public List<String> targetModules;
    public BaseFormat baseFormat;
    public Precision precision;
    public boolean gradientCheckpointing;
    public int maxSeqLen;
    public boolean packing;
    public long seed;
    public double initialLossScale;
    public int lossScaleGrowthInterval;
    public int checkpointEvery;
    public int logEvery;
    public EvalPolicy evalPolicy;

    Builder(TrainConfig c) {
      epochs = c.epochs;
      batchSize = c.batchSize;
      gradAccumulation = c.gradAccumulation;
      learningRate = c.learningRate;
      schedule = c.schedule;
      warmupRatio = c.warmupRatio;
      optimizer = c.optimizer;
      adamBeta1 = c.adamBeta1;
      adamBeta2 = c.adamBeta2;
      adamEpsilon = c.adamEpsilon;
      weightDecay = c.weightDecay;
      maxGradNorm = c.maxGradNorm;
      loraR = c.loraR;
      loraAlpha = c.loraAlpha;
      loraDropout = c.loraDropout;
      targetModules = c.targetModules;
      baseFormat = c.baseFormat;
      precision = c.precision;
      gradientCheckpointing = c.gradientCheckpointing;
      maxSeqLen = c.maxSeqLen;
      packing = c.packing;
      seed = c.seed;
      initialLossScale = c.initialLossScale;
      lossScaleGrowthInterval = c.lossScaleGrowthInterval;
      checkpointEvery = c.checkpointEvery;
      logEvery = c.logEvery;
      evalPolicy = c.evalPolicy;
    }

    public TrainConfig build() {
      return new TrainConfig(
          epochs,
          batchSize,
          gradAccumulation,
          learningRate,
          schedule,
          warmupRatio,
          optimizer,
          adamBeta1,
          adamBeta2,
          adamEpsilon,
          weightDecay,
          maxGradNorm,
          loraR,
          loraAlpha,
          loraDropout,
          targetModules,
          baseFormat,
          precision,
          gradientCheckpointing,
          maxSeqLen,
          packing,
          seed,
          initialLossScale,
          lossScaleGrowthInterval,
          checkpointEvery,
          logEvery,
          evalPolicy);
    }
  }
}
