package io.loraflow.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.loraflow.engine.model.FixtureModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Our host-side logits processing against HF's processors on the same scores. */
class SamplerTest {

  @Test
  void penaltyTemperatureTopKTopPMatchTransformers() {
    Map<String, FixtureModel.RawTensor> ref =
        FixtureModel.readSafetensors(Path.of("src/test/resources/sampler_reference.safetensors"));
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      float[] scores = ref.get("scores").toArray(m).toFloatArray();
      long[] seen = ref.get("seen").toArray(m).toLongArray();
      float[] penalized = ref.get("penalized").toArray(m).toFloatArray();
      float[] warped = ref.get("warped").toArray(m).toFloatArray();

      Sampler.penalize(scores, seen, seen.length, 1.3f);
      for (int i = 0; i < scores.length; i++) {
        assertEquals(penalized[i], scores[i], 1e-6, "penalized score " + i);
      }
      GenerationConfig config =
          new GenerationConfig(1, false, 0.7, 0.8, 40, 1.3, 0, List.of(), List.of());
      Sampler.warp(scores, config);
      for (int i = 0; i < scores.length; i++) {
        if (Float.isInfinite(warped[i])) {
          assertEquals(Float.NEGATIVE_INFINITY, scores[i], "token " + i + " should be removed");
        } else {
          assertEquals(warped[i], scores[i], 1e-5, "warped score " + i);
        }
      }
    }
  }
}
