package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Training hyper-parameters of a run. Every field is optional in JSON; a missing field takes the
 * default shown below (the one place these defaults are written; the engine's TrainConfig maps this
 * record and adds only knobs a spec does not expose): the user's reference QLoRA run (1 epoch,
 * batch 1, lr 2e-4, cosine with 5% warmup, 8-bit AdamW, r 16, alpha 32, dropout 0.05), which lowers
 * SmolLM2-135M's held-out loss on the sample FAQ by 25% (bench/results/quality-smollm2-cpu.md).
 *
 * @param epochs passes over the training split (default 1)
 * @param learningRate peak AdamW learning rate (default 2e-4)
 * @param loraR LoRA rank r (default 16)
 * @param loraAlpha LoRA alpha; scaling = alpha / r (default 32)
 * @param loraDropout dropout on the LoRA input, in [0, 1) (default 0.05)
 * @param targetModules projection names to adapt, e.g. ["q_proj","v_proj"] or ["query_key_value"];
 *     empty = the model family's default (Llama family: all linear layers; Falcon: query_key_value)
 * @param maxSeqLen tokens per example after templating; longer examples are truncated and counted
 *     (default 512)
 * @param batchSize examples per micro-batch (default 1)
 * @param gradAccum micro-batches per optimizer step (default 1)
 * @param seed seed of data order, LoRA init and dropout (default 42)
 * @param precision compute precision: "auto" (fp16 on GPU, fp32 on CPU), "fp16" or "fp32"
 * @param checkpointEverySteps full training-state checkpoint to the object store every N optimizer
 *     steps (default 20); a preempted worker loses at most this many steps
 * @param optimizer "adamw" or "adamw8bit" (default "adamw8bit", the counterpart of paged 8-bit
 *     AdamW)
 * @param schedule learning-rate schedule after warmup: "cosine", "linear" or "constant"
 * @param warmupRatio fraction of the total steps spent in linear warmup, in [0, 1) (default 0.05)
 * @param evalEverySteps held-out loss every N optimizer steps during training, beside the one at
 *     every epoch end (default 0: epoch ends only); logged to MLflow as {@code eval/loss}
 * @param earlyStoppingPatience stop after this many held-out evaluations in a row without an
 *     improvement of more than earlyStoppingMinDelta (default 0: never stop early)
 * @param earlyStoppingMinDelta the improvement in held-out loss (nats per answer token) that counts
 *     (default 0.0)
 *     <p>Whenever the run has a held-out split, the adapter that is published, evaluated and
 *     registered is the one of the best held-out evaluation (its step is in the result), not
 *     necessarily the last.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrainingSpec(
    Integer epochs,
    Double learningRate,
    Integer loraR,
    Integer loraAlpha,
    Double loraDropout,
    List<String> targetModules,
    Integer maxSeqLen,
    Integer batchSize,
    Integer gradAccum,
    Long seed,
    String precision,
    Integer checkpointEverySteps,
    String optimizer,
    String schedule,
    Double warmupRatio,
    Integer evalEverySteps,
    Integer earlyStoppingPatience,
    Double earlyStoppingMinDelta) {

  public static final Set<String> PRECISIONS = Set.of("auto", "fp16", "fp32");
  public static final Set<String> OPTIMIZERS = Set.of("adamw", "adamw8bit");
  public static final Set<String> SCHEDULES = Set.of("cosine", "linear", "constant");

  public TrainingSpec {
    epochs = epochs == null ? 1 : epochs;
    learningRate = learningRate == null ? 2e-4 : learningRate;
    loraR = loraR == null ? 16 : loraR;
    loraAlpha = loraAlpha == null ? 32 : loraAlpha;
    loraDropout = loraDropout == null ? 0.05 : loraDropout;
    targetModules = targetModules == null ? List.of() : List.copyOf(targetModules);
    maxSeqLen = maxSeqLen == null ? 512 : maxSeqLen;
    batchSize = batchSize == null ? 1 : batchSize;
    gradAccum = gradAccum == null ? 1 : gradAccum;
    seed = seed == null ? 42L : seed;
    precision = precision == null ? "auto" : precision.trim().toLowerCase();
    checkpointEverySteps = checkpointEverySteps == null ? 20 : checkpointEverySteps;
    optimizer = optimizer == null ? "adamw8bit" : optimizer.trim().toLowerCase();
    schedule = schedule == null ? "cosine" : schedule.trim().toLowerCase();
    warmupRatio = warmupRatio == null ? 0.05 : warmupRatio;
    evalEverySteps = evalEverySteps == null ? 0 : evalEverySteps;
    earlyStoppingPatience = earlyStoppingPatience == null ? 0 : earlyStoppingPatience;
    earlyStoppingMinDelta = earlyStoppingMinDelta == null ? 0.0 : earlyStoppingMinDelta;
  }

  /** The spec without the evaluation-during-training fields (they take their defaults). */
  public TrainingSpec(
      Integer epochs,
      Double learningRate,
      Integer loraR,
      Integer loraAlpha,
      Double loraDropout,
      List<String> targetModules,
      Integer maxSeqLen,
      Integer batchSize,
      Integer gradAccum,
      Long seed,
      String precision,
      Integer checkpointEverySteps,
      String optimizer,
      String schedule,
      Double warmupRatio) {
    this(
        epochs,
        learningRate,
        loraR,
        loraAlpha,
        loraDropout,
        targetModules,
        maxSeqLen,
        batchSize,
        gradAccum,
        seed,
        precision,
        checkpointEverySteps,
        optimizer,
        schedule,
        warmupRatio,
        null,
        null,
        null);
  }

  /** All defaults. */
  public static TrainingSpec defaults() {
    return new TrainingSpec(
        null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null);
  }

  /** This spec with {@code epochs} passes (the demo's and the CLI's --epochs). */
  public TrainingSpec withEpochs(int epochs) {
    return new TrainingSpec(
        epochs,
        learningRate,
        loraR,
        loraAlpha,
        loraDropout,
        targetModules,
        maxSeqLen,
        batchSize,
        gradAccum,
        seed,
        precision,
        checkpointEverySteps,
        optimizer,
        schedule,
        warmupRatio,
        evalEverySteps,
        earlyStoppingPatience,
        earlyStoppingMinDelta);
  }

  /** Problems with this spec, each naming the field, the bad value and the allowed range. */
  public List<String> problems() {
    List<String> p = new ArrayList<>();
    range(p, "training.epochs", epochs, 1, 1000);
    if (!(learningRate > 0 && learningRate <= 1)) {
      p.add("training.learningRate must be in (0, 1], got " + learningRate);
    }
    range(p, "training.loraR", loraR, 1, 1024);
    range(p, "training.loraAlpha", loraAlpha, 1, 4096);
    if (!(loraDropout >= 0 && loraDropout < 1)) {
      p.add("training.loraDropout must be in [0, 1), got " + loraDropout);
    }
    for (String m : targetModules) {
      if (m == null || !m.matches("[A-Za-z0-9_.]+")) {
        p.add(
            "training.targetModules has a bad module name '" + m + "' (letters, digits, _ and .)");
      }
    }
    range(p, "training.maxSeqLen", maxSeqLen, 16, 131072);
    range(p, "training.batchSize", batchSize, 1, 4096);
    range(p, "training.gradAccum", gradAccum, 1, 4096);
    if (!PRECISIONS.contains(precision)) {
      p.add("training.precision must be one of " + PRECISIONS + ", got '" + precision + "'");
    }
    range(p, "training.checkpointEverySteps", checkpointEverySteps, 1, 1_000_000);
    if (!OPTIMIZERS.contains(optimizer)) {
      p.add("training.optimizer must be one of " + OPTIMIZERS + ", got '" + optimizer + "'");
    }
    if (!SCHEDULES.contains(schedule)) {
      p.add("training.schedule must be one of " + SCHEDULES + ", got '" + schedule + "'");
    }
    if (!(warmupRatio >= 0 && warmupRatio < 1)) {
      p.add("training.warmupRatio must be in [0, 1), got " + warmupRatio);
    }
    range(p, "training.evalEverySteps", evalEverySteps, 0, 1_000_000);
    range(p, "training.earlyStoppingPatience", earlyStoppingPatience, 0, 1000);
    if (!(earlyStoppingMinDelta >= 0 && earlyStoppingMinDelta <= 10)) {
      p.add(
          "training.earlyStoppingMinDelta must be in [0, 10] (a loss in nats per token), got "
              + earlyStoppingMinDelta);
    }
    return p;
  }

  static void range(List<String> p, String field, long value, long min, long max) {
    if (value < min || value > max) {
      p.add(field + " must be in [" + min + ", " + max + "], got " + value);
    }
  }
}
