package io.loraflow.cli;

import io.loraflow.workflows.EvaluationSpec;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.TrainingSpec;
import java.util.List;
import java.util.Locale;

/**
 * The named training recipes of {@code loraflow demo} ({@code --preset NAME}), kept apart from the
 * argument parsing so both can change alone.
 *
 * <ul>
 *   <li>{@code learns} (default): a demo that visibly learns on a 2-core CPU: 3 epochs, batch 4, lr
 *       1e-3 (4 sequences per step keep the step count, and so the wall time, near one epoch of
 *       batch 1), held-out loss at every epoch end, the best epoch's adapter published;
 *   <li>{@code seed}: the seed's exact recipe, the run spec defaults (1 epoch, batch 1, lr 2e-4, r
 *       16, alpha 32, 8-bit AdamW, cosine with 5% warmup).
 * </ul>
 *
 * Both answer 8 held-out and 8 seen (training) questions with at most 64 new tokens, so the demo
 * ends in minutes on a CPU.
 */
final class DemoPresets {

  static final String DEFAULT = "learns";
  static final List<String> NAMES = List.of("learns", "seed");

  private DemoPresets() {}

  /**
   * @param preset a name of {@link #NAMES}
   * @param epochs overrides the preset's epochs when not null
   * @throws IllegalArgumentException naming the known presets
   */
  static RunSpec spec(
      String preset, String dataset, String baseModel, Integer epochs, int prompts) {
    String name = preset == null ? DEFAULT : preset.trim().toLowerCase(Locale.ROOT);
    TrainingSpec t = TrainingSpec.defaults();
    TrainingSpec training =
        switch (name) {
          case "seed" -> t;
          case "learns" ->
              new TrainingSpec(
                  3,
                  1e-3,
                  t.loraR(),
                  t.loraAlpha(),
                  t.loraDropout(),
                  t.targetModules(),
                  t.maxSeqLen(),
                  4,
                  1,
                  t.seed(),
                  t.precision(),
                  t.checkpointEverySteps(),
                  t.optimizer(),
                  t.schedule(),
                  t.warmupRatio(),
                  0,
                  0,
                  0.0);
          default ->
              throw new IllegalArgumentException(
                  "demo: unknown preset '" + preset + "'; known presets: " + NAMES);
        };
    if (epochs != null) {
      training = training.withEpochs(epochs);
    }
    EvaluationSpec evaluation = new EvaluationSpec(64, prompts, null, prompts);
    return new RunSpec(null, dataset, null, baseModel, null, training, null, evaluation, null)
        .validate();
  }
}
