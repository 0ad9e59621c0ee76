package io.loraflow.gpu;

import io.loraflow.engine.lora.BaseFormat;
import io.loraflow.engine.train.TrainConfig;
import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.TrainingSpec;
import io.temporal.failure.ApplicationFailure;
import java.util.List;
import java.util.Locale;

/** The run spec's {@link TrainingSpec} as the engine's {@link TrainConfig}. */
final class TrainConfigs {
  private TrainConfigs() {}

  /**
   * @param onGpu resolves precision "auto": fp16 on a GPU, fp32 on a CPU
   * @throws ApplicationFailure non-retryable {@link FailureTypes#INVALID_TRAINING_CONFIG}
   */
  static TrainConfig of(TrainingSpec spec, boolean onGpu) {
    List<String> problems = spec.problems();
    if (!problems.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          String.join("; ", problems), FailureTypes.INVALID_TRAINING_CONFIG);
    }
    TrainConfig.Builder b = TrainConfig.defaults().toBuilder();
    b.epochs = spec.epochs();
    b.learningRate = spec.learningRate();
    b.loraR = spec.loraR();
    b.loraAlpha = spec.loraAlpha();
    b.loraDropout = spec.loraDropout();
    b.targetModules = spec.targetModules();
    b.maxSeqLen = spec.maxSeqLen();
    b.batchSize = spec.batchSize();
    b.gradAccumulation = spec.gradAccum();
    b.seed = spec.seed();
    b.precision =
        switch (spec.precision()) {
          case "fp16" -> TrainConfig.Precision.FP16;
          case "fp32" -> TrainConfig.Precision.FP32;
          default -> onGpu ? TrainConfig.Precision.FP16 : TrainConfig.Precision.FP32;
        };
    b.checkpointEvery = spec.checkpointEverySteps();
    b.optimizer =
        spec.optimizer().equals("adamw8bit")
            ? TrainConfig.OptimizerKind.ADAMW_8BIT
            : TrainConfig.OptimizerKind.ADAMW;
    b.schedule = TrainConfig.Schedule.valueOf(spec.schedule().toUpperCase(Locale.ROOT));
    b.warmupRatio = spec.warmupRatio();
    b.baseFormat = BaseFormat.NF4;
    // Recomputing blocks saves GPU memory; on a CPU worker memory is not the limit for the models
    // it can train in reasonable time, so skip the second forward there (same numbers, ~25% less
    // work).
    b.gradientCheckpointing = onGpu;
    b.logEvery = 1;
    // held-out loss at every epoch end (and every evalEverySteps), early stopping on it; without
    // a held-out split the trainer skips both (TrainActivity gives it none)
    b.evalPolicy =
        new io.loraflow.engine.train.EvalPolicy(
            spec.evalEverySteps(),
            true,
            spec.earlyStoppingPatience(),
            spec.earlyStoppingMinDelta());
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          e.getMessage(), FailureTypes.INVALID_TRAINING_CONFIG);
    }
  }
}
