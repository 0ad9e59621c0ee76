package io.loraflow.engine.train;

/**
 * HF transformers' schedules with linear warmup (get_cosine_schedule_with_warmup etc.): optimizer
 * step s (0-based) uses lr * factor(s); warmup steps = ceil(total * warmupRatio) as in
 * TrainingArguments.get_warmup_steps.
 */
public record LrSchedule(TrainConfig.Schedule kind, double peak, int warmupSteps, long totalSteps) {

  public static LrSchedule of(TrainConfig config, long totalSteps) {
    int warmup = (int) Math.ceil(totalSteps * config.warmupRatio());
    return new LrSchedule(config.schedule(), config.learningRate(), warmup, totalSteps);
  }

  /** Learning rate of optimizer step {@code step} (0-based). */
  public double lr(long step) {
    if (step < warmupSteps) {
      return peak * step / Math.max(1, warmupSteps);
    }
    double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    switch (kind) {
      case COSINE:
        return peak * Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * progress)));
      case LINEAR:
        return peak
            * Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
      case CONSTANT:
        return peak;
      default:
        throw new IllegalStateException("unknown schedule " + kind);
    }
  }
}
