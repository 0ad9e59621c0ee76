package io.loraflow.engine.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEFT's adapter format both ways, on the tiny random Llama of src/test/python/peft_fixture.py. Our
 * written adapter is checked by PEFT itself with src/test/python/peft_check_ours.py (it reads
 * worker-gpu/target/peft-ours, which this test leaves behind).
 */
class PeftAdapterTest {

  private static final Path FIXTURE = Path.of("src/test/resources/lora/peft-tiny-llama");

  @Test
  void readsAnAdapterSavedByPeft() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      PeftAdapter a = PeftAdapter.load(FIXTURE.resolve("adapter"), m);
      assertEquals(4, a.config().r());
      assertEquals(8.0, a.config().alpha());
      assertEquals(2.0, a.config().scaling());
      assertEquals(8, a.loraA().size()); // 2 layers x q, v, o, down
      Map<String, NDArray> raw =
          Safetensors.readAll(FIXTURE.resolve("adapter/adapter_model.safetensors"), m);
      String q = "model.layers.1.self_attn.q_proj";
      assertArrayEquals(
          raw.get("base_model.model." + q + ".lora_A.weight").toFloatArray(),
          a.loraA().get(q).toFloatArray());
      assertEquals(new ai.djl.ndarray.types.Shape(4, 32), a.loraA().get(q).getShape());
      assertEquals(new ai.djl.ndarray.types.Shape(32, 4), a.loraB().get(q).getShape());
      assertTrue(a.config().targets("model.layers.0.mlp.down_proj"));
    }
  }

  @Test
  void aLoadedAdapterIsSavedBackUnchanged(@TempDir Path tmp) throws Exception {
    // the fixture's adapter_config.json is PEFT 0.21.2's: 41 keys, most unknown to us, and values
    // we would write differently (init_lora_weights false, base_model_name_or_path null)
    Path original = FIXTURE.resolve("adapter");
    String config = Files.readString(original.resolve(PeftAdapter.CONFIG_FILE));
    var keys = new com.fasterxml.jackson.databind.ObjectMapper().readTree(config);
    assertEquals(41, keys.size());
    assertEquals(false, keys.get("init_lora_weights").asBoolean(true));
    try (NDManager m = NDManager.newBaseManager()) {
      PeftAdapter a = PeftAdapter.load(original, m);
      Path copy = tmp.resolve("copy");
      a.save(copy);
      assertEquals(config, Files.readString(copy.resolve(PeftAdapter.CONFIG_FILE)));
      // our safetensors writer is byte-identical to Python's: the weights come back bit for bit
      assertArrayEquals(
          Files.readAllBytes(original.resolve(PeftAdapter.WEIGHTS_FILE)),
          Files.readAllBytes(copy.resolve(PeftAdapter.WEIGHTS_FILE)));
      PeftAdapter again = PeftAdapter.load(copy, m);
      assertEquals(a.config(), again.config());
      assertEquals(config, again.configJson());
    }
  }

  @Test
  void peftSavedAdapterGivesPeftsLogits() throws Exception {
    try (NDManager m = NDManager.newBaseManager();
        io.loraflow.engine.io.ModelFiles files =
            io.loraflow.engine.io.ModelFiles.open(FIXTURE.resolve("base"))) {
      PeftAdapter adapter = PeftAdapter.load(FIXTURE.resolve("adapter"), m);
      LoraLinearFactory factory =
          new LoraLinearFactory(adapter.config(), BaseFormat.DENSE, DataType.FLOAT32, m, 1);
      Map<String, NDArray> expected =
          Safetensors.readAll(FIXTURE.resolve("expected.safetensors"), m);
      try (io.loraflow.engine.model.CausalLM model =
          io.loraflow.engine.model.Models.build(
              files.weights(), factory, DataType.FLOAT32, ai.djl.Device.cpu())) {
        factory.requireAllTargetsMatched();
        NDArray ids = expected.get("input_ids");
        long t = ids.getShape().get(1);
        var step =
            new io.loraflow.engine.model.AttentionStep(
                m.arange(0, t, 1, DataType.INT64).reshape(1, t), null, null);
        // B = 0 at init: the base model's logits
        float[] base = model.forward(ids, step).toFloatArray();
        assertArrayEquals(expected.get("base_logits").toFloatArray(), base, 1e-4f);
        adapter.applyTo(factory.loraModules());
        float[] tuned = model.forward(ids, step).toFloatArray();
        float[] peft = expected.get("logits").toFloatArray();
        float worst = 0;
        for (int i = 0; i < peft.length; i++) {
          worst = Math.max(worst, Math.abs(peft[i] - tuned[i]));
        }
        assertTrue(worst < 1e-4, "max |ours - peft| = " + worst);
      }
    }
  }

  /**
   * Resuming training loads a checkpoint's adapter into trainable LoRA leaves on a thread whose
   * grad mode is on (torch's default on a fresh thread): the copy must not be an autograd-recorded
   * in-place write ("a leaf Variable that requires grad is being used in an in-place operation").
   */
  @Test
  void appliesToTrainableLeavesWhileGradModeIsOn() throws Exception {
    try (NDManager m = NDManager.newBaseManager();
        io.loraflow.engine.io.ModelFiles files =
            io.loraflow.engine.io.ModelFiles.open(FIXTURE.resolve("base"))) {
      PeftAdapter adapter = PeftAdapter.load(FIXTURE.resolve("adapter"), m);
      LoraLinearFactory factory =
          new LoraLinearFactory(adapter.config(), BaseFormat.DENSE, DataType.FLOAT32, m, 1);
      try (io.loraflow.engine.model.CausalLM model =
          io.loraflow.engine.model.Models.build(
              files.weights(), factory, DataType.FLOAT32, ai.djl.Device.cpu())) {
        boolean before = ai.djl.pytorch.jni.JniUtils.isGradMode();
        ai.djl.pytorch.jni.JniUtils.setGradMode(true);
        try {
          adapter.applyTo(factory.loraModules());
          assertTrue(ai.djl.pytorch.jni.JniUtils.isGradMode(), "grad mode restored");
        } finally {
          ai.djl.pytorch.jni.JniUtils.setGradMode(before);
        }
        for (LoraLinear lora : factory.loraModules().values()) {
          assertTrue(lora.loraA().hasGradient(), lora.name() + " stays trainable");
          assertArrayEquals(
              adapter.loraA().get(lora.name()).toFloatArray(),
              lora.loraA().toFloatArray(),
              0f,
              lora.name());
          assertArrayEquals(
              adapter.loraB().get(lora.name()).toFloatArray(),
              lora.loraB().toFloatArray(),
              0f,
              lora.name());
        }
      }
    }
  }

  @Test
  void writesWhatPeftReads() throws Exception {
    Path out = Path.of("target/peft-ours");
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> base = Safetensors.readAll(FIXTURE.resolve("base/model.safetensors"), m);
      LoraConfig config = LoraConfig.of(4, 16, 0.05, List.of("k_proj", "up_proj"));
      LoraLinearFactory factory =
          new LoraLinearFactory(config, BaseFormat.DENSE, DataType.FLOAT32, m, 3);
      List<String> linears = new ArrayList<>();
      for (Map.Entry<String, NDArray> e : base.entrySet()) {
        String name = e.getKey();
        if (name.endsWith("_proj.weight")) {
          String module = name.substring(0, name.length() - ".weight".length());
          linears.add(module);
          factory.create(module, e.getValue().duplicate(), null);
        }
      }
      factory.requireAllTargetsMatched();
      Random rng = new Random(5);
      for (LoraLinear l : factory.loraModules().values()) {
        float[] b = new float[(int) l.loraB().size()];
        for (int i = 0; i < b.length; i++) {
          b[i] = (float) rng.nextGaussian() * 0.1f;
        }
        l.loraB().set(b);
      }
      PeftAdapter.save(out, factory.loraModules(), linears, config, "tiny-llama");
      String json = Files.readString(out.resolve(PeftAdapter.CONFIG_FILE));
      assertTrue(
          json.contains("\"peft_type\": \"LORA\"")
              && json.contains("\"k_proj\"")
              && json.contains("\"task_type\": \"CAUSAL_LM\""),
          json);
      assertTrue(json.startsWith("{\n  \"alpha_pattern\": {},\n"), json); // PEFT's layout
      assertTrue(json.contains("\"target_modules\": [\n    \""), json); // one entry a line
      PeftAdapter back = PeftAdapter.load(out, m);
      assertEquals(json, back.configJson());
      assertEquals(config.r(), back.config().r());
      assertEquals(config.alpha(), back.config().alpha());
      for (LoraLinear l : factory.loraModules().values()) {
        assertArrayEquals(l.loraA().toFloatArray(), back.loraA().get(l.name()).toFloatArray());
        assertArrayEquals(l.loraB().toFloatArray(), back.loraB().get(l.name()).toFloatArray());
      }
      assertEquals(4, back.loraA().size());
    }
  }

  @Test
  void exportWritesTheMergedBaseAsFp16(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("merged/model.safetensors");
    try (NDManager m = NDManager.newBaseManager();
        io.loraflow.engine.io.ModelFiles files =
            io.loraflow.engine.io.ModelFiles.open(FIXTURE.resolve("base"))) {
      PeftAdapter adapter = PeftAdapter.load(FIXTURE.resolve("adapter"), m);
      LoraMerge.export(files.weights(), adapter, out);
      Map<String, NDArray> merged = Safetensors.readAll(out, m);
      assertEquals(new java.util.TreeSet<>(files.weights().names()), merged.keySet());
      assertEquals(List.of(out.getFileName()), listing(out.getParent()), "no temporary file left");
      String q = "model.layers.1.self_attn.q_proj";
      NDArray w = files.weights().load(q + ".weight", m, DataType.FLOAT32);
      NDArray expected =
          LoraMerge.merge(
              w,
              adapter.loraA().get(q),
              adapter.loraB().get(q),
              adapter.config().scaling(),
              DataType.FLOAT16);
      assertEquals(DataType.FLOAT16, merged.get(q + ".weight").getDataType());
      assertArrayEquals(expected.toByteArray(), merged.get(q + ".weight").toByteArray());
      assertTrue(
          !w.toType(DataType.FLOAT16, false).contentEquals(merged.get(q + ".weight")),
          "the adapter's delta was added");
      String k = "model.layers.1.self_attn.k_proj.weight"; // not an adapter target
      assertArrayEquals(
          files.weights().load(k, m, DataType.FLOAT16).toByteArray(), merged.get(k).toByteArray());
    }
  }

  private static List<Path> listing(Path dir) throws java.io.IOException {
    try (var s = Files.list(dir)) {
      return s.map(Path::getFileName).toList();
    }
  }

  @Test
  void mergeAddsScaledProduct() {
    try (NDManager m = NDManager.newBaseManager()) {
      float[] w = {1, 2, 3, 4, 5, 6}; // (3, 2)
      float[] a = {0.5f, -1}; // (1, 2)
      float[] b = {2, 0, -3}; // (3, 1)
      NDArray merged =
          LoraMerge.merge(
              m.create(w, new ai.djl.ndarray.types.Shape(3, 2)),
              m.create(a, new ai.djl.ndarray.types.Shape(1, 2)),
              m.create(b, new ai.djl.ndarray.types.Shape(3, 1)),
              2.0,
              DataType.FLOAT32);
      float[] expected = new float[6];
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 2; j++) {
          expected[i * 2 + j] = w[i * 2 + j] + 2.0f * b[i] * a[j];
        }
      }
      assertArrayEquals(expected, merged.toFloatArray(), 1e-6f);
    }
  }
}
