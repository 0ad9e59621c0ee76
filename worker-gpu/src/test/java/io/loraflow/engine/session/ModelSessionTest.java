package io.loraflow.engine.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.io.Safetensors;
import io.loraflow.engine.model.AttentionStep;
import io.loraflow.engine.train.TrainConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one model set-up, on the tiny Llama and PEFT adapter of src/test/python/peft_fixture.py. */
class ModelSessionTest {

  private static final Path FIXTURE = Path.of("src/test/resources/lora/peft-tiny-llama");

  private static float[] logits(ModelSession s, NDArray ids) {
    long t = ids.getShape().get(1);
    NDManager m = ids.getManager();
    var step = new AttentionStep(m.arange(0, t, 1, DataType.INT64).reshape(1, t), null, null);
    return s.model().forward(ids, step).toFloatArray();
  }

  @Test
  void aPlainSessionComputesTheBaseModelAsTransformersDoes() {
    try (NDManager m = NDManager.newBaseManager();
        ModelFiles files = ModelFiles.open(FIXTURE.resolve("base"));
        ModelSession s = ModelSession.plain(files, DataType.FLOAT32, Device.cpu())) {
      Map<String, NDArray> expected =
          Safetensors.readAll(FIXTURE.resolve("expected.safetensors"), m);
      assertTrue(s.loraModules().isEmpty());
      assertArrayEquals(
          expected.get("base_logits").toFloatArray(), logits(s, expected.get("input_ids")), 1e-4f);
    }
  }

  @Test
  void anAdapterSessionSwitchesBetweenBaseAndAdapter() throws Exception {
    try (NDManager m = NDManager.newBaseManager();
        ModelFiles files = ModelFiles.open(FIXTURE.resolve("base"));
        ModelSession s =
            ModelSession.withAdapter(
                files, FIXTURE.resolve("adapter"), DataType.FLOAT32, Device.cpu())) {
      NDArray ids =
          Safetensors.readAll(FIXTURE.resolve("expected.safetensors"), m).get("input_ids");
      assertEquals(8, s.loraModules().size()); // 2 layers x q, v, o, down
      float[] base = logits(s, ids);
      s.useAdapter();
      String q = "model.layers.1.self_attn.q_proj";
      assertArrayEquals(
          s.adapter().loraB().get(q).toFloatArray(), s.loraModules().get(q).loraB().toFloatArray());
      float[] tuned = logits(s, ids);
      assertArrayEquals(tuned, logits(s, ids), "eval mode: no dropout, same logits twice");
      double moved = 0;
      for (int i = 0; i < base.length; i++) {
        moved = Math.max(moved, Math.abs(base[i] - tuned[i]));
      }
      assertTrue(moved > 1e-3, "the adapter changes the logits, max |diff| = " + moved);
      s.useBase();
      assertArrayEquals(base, logits(s, ids), "B = 0 is exactly the base model again");
    }
  }

  @Test
  void aTrainingConfigThatDoesNotFitIsRejectedBeforeLoading() {
    try (ModelFiles files = ModelFiles.open(FIXTURE.resolve("base"))) {
      var b = TrainConfig.defaults().toBuilder();
      b.targetModules = List.of("query_key_value"); // Falcon's, not a Llama module
      b.precision = TrainConfig.Precision.FP32;
      b.maxSeqLen = 64; // the fixture model's maximum
      TrainConfig config = b.build();
      var e =
          assertThrows(
              IllegalArgumentException.class,
              () -> ModelSession.forTraining(files, config, Device.cpu(), "tiny-llama"));
      assertTrue(e.getMessage().contains("query_key_value"), e.getMessage());

      b.targetModules = List.of("q_proj", "v_proj");
      try (ModelSession s =
          ModelSession.forTraining(files, b.build(), Device.cpu(), "tiny-llama")) {
        assertEquals(4, s.loraModules().size()); // 2 layers x q, v
        assertEquals(DataType.FLOAT32, s.dtype());
        assertTrue(s.linears().containsAll(s.loraModules().keySet()));
      }
    }
  }

  @Test
  void devicesAndDtypesFromSettings() {
    assertEquals(Device.cpu(), ModelSession.device("cpu"));
    assertEquals(DataType.FLOAT32, ModelSession.dtype("auto", Device.cpu()));
    assertEquals(DataType.FLOAT16, ModelSession.dtype("auto", Device.gpu()));
    assertEquals(DataType.FLOAT16, ModelSession.dtype("fp16", Device.cpu()));
    assertEquals(DataType.FLOAT32, ModelSession.dtype("fp32", Device.gpu()));
    assertEquals(DataType.FLOAT16, ModelSession.dtype(TrainConfig.Precision.FP16));
  }
}
