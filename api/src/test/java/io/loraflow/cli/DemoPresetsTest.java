package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.TrainingSpec;
import org.junit.jupiter.api.Test;

class DemoPresetsTest {

  @Test
  void seedIsExactlyTheRunSpecDefaults() {
    RunSpec seed =
        DemoPresets.spec("seed", "builtin:ecommerce-faq", "smollm2-135m-instruct", null, 8);
    assertEquals(TrainingSpec.defaults(), seed.training());
    assertEquals(8, seed.evaluation().numSeenPrompts());
  }

  @Test
  void learnsIsTheDefaultAndDiffersOnlyInEpochsBatchLearningRateAndDropout() {
    RunSpec learns =
        DemoPresets.spec(null, "builtin:ecommerce-faq", "smollm2-135m-instruct", null, 8);
    TrainingSpec t = learns.training();
    TrainingSpec d = TrainingSpec.defaults();
    assertEquals(3, t.epochs());
    assertEquals(2, t.batchSize());
    assertEquals(2.5e-3, t.learningRate());
    assertEquals(0.0, t.loraDropout());
    assertEquals(d.loraR(), t.loraR());
    assertEquals(d.loraAlpha(), t.loraAlpha());
    assertEquals(d.targetModules(), t.targetModules());
    assertEquals(d.optimizer(), t.optimizer());
    assertEquals(d.schedule(), t.schedule());
    assertEquals(d.seed(), t.seed());
    assertEquals(96, learns.evaluation().maxNewTokens());
    assertEquals(
        96,
        DemoPresets.spec("seed", "builtin:ecommerce-faq", "smollm2-135m-instruct", null, 8)
            .evaluation()
            .maxNewTokens(),
        "both presets are scored with the same generation settings");
    assertEquals(
        2,
        DemoPresets.spec("learns", "builtin:ecommerce-faq", "smollm2-135m-instruct", 2, 8)
            .training()
            .epochs());
  }

  @Test
  void unknownPresetNamesTheKnownOnes() {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                DemoPresets.spec(
                    "fast", "builtin:ecommerce-faq", "smollm2-135m-instruct", null, 8));
    assertTrue(e.getMessage().contains("[learns, seed]"), e.getMessage());
  }
}
