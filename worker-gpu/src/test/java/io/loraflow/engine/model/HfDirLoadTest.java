package io.loraflow.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.io.WeightSource;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The same fixtures through the product loader (io.ModelFiles: config.json translation and
 * safetensors), plus the model's load-time validation.
 */
class HfDirLoadTest {

  static List<String> fixtures() {
    return FixtureModel.all();
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void hfDirThroughModelFilesMatchesTransformers(String name) {
    FixtureModel f = FixtureModel.load(name);
    try (NDManager m = NDManager.newBaseManager(Device.cpu());
        ModelFiles files = ModelFiles.open(FixtureModel.ROOT.resolve(name));
        CausalLM model =
            Models.build(
                files.weights(),
                DenseLinear.factory(DataType.FLOAT32, Device.cpu()),
                DataType.FLOAT32,
                Device.cpu())) {
      assertEquals(f.config, files.config(), name + ": io's config.json translation");
      NDArray mask = f.expected("attention_mask", m);
      NDArray logits =
          model.forward(
              f.expected("input_ids", m),
              new AttentionStep(f.expected("position_ids", m), mask, null));
      double err = CausalLMFixtureTest.relativeError(logits, f.expected("logits", m), mask);
      assertTrue(err < 1e-4, name + ": " + err);
    }
  }

  @Test
  void missingTensorIsNamedAndNothingLeaks() {
    FixtureModel f = FixtureModel.load("llama_gqa_bias_llama3");
    Map<String, FixtureModel.RawTensor> weights = new HashMap<>(f.weights);
    weights.remove("model.layers.1.mlp.up_proj.weight");
    List<Linear> built = new java.util.ArrayList<>();
    LinearFactory dense = DenseLinear.factory(DataType.FLOAT32, Device.cpu());
    LinearFactory tracking =
        (module, w, b) -> {
          Linear l = dense.create(module, w, b);
          built.add(l);
          return l;
        };
    WeightSource source = new FixtureModel.MapSource(f.config, weights, "test.safetensors");
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () -> Models.build(source, tracking, DataType.FLOAT32, Device.cpu()));
    assertEquals(
        "test.safetensors: missing tensor 'model.layers.1.mlp.up_proj.weight' (expected shape"
            + " (96, 64) from the config)",
        e.getMessage());
    assertTrue(built.size() > 5);
    for (Linear l : built) {
      assertTrue(
          ((DenseLinear) l).weight().isReleased(), "a linear built before the failure was freed");
    }
  }

  @Test
  void shapeMismatchNamesTensorAndBothShapes() {
    FixtureModel f = FixtureModel.load("falcon_7b");
    Map<String, FixtureModel.RawTensor> weights = new HashMap<>(f.weights);
    String name = "transformer.h.0.self_attention.query_key_value.weight";
    FixtureModel.RawTensor qkv = weights.get(name);
    // an MHA-shaped fused projection (3H, H) where the multi-query config needs (H + 2D, H)
    weights.put(
        name, new FixtureModel.RawTensor("F32", new long[] {192, 64}, new byte[192 * 64 * 4]));
    assertEquals(80, qkv.shape()[0]);
    WeightSource source = new FixtureModel.MapSource(f.config, weights, Path.of("m").toString());
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () ->
                Models.build(
                    source,
                    DenseLinear.factory(DataType.FLOAT32, Device.cpu()),
                    DataType.FLOAT32,
                    Device.cpu()));
    assertEquals(
        "m: tensor 'transformer.h.0.self_attention.query_key_value.weight' has shape (192, 64) but"
            + " the config (hidden_size=64, intermediate_size=256, heads=8, kv_heads=1,"
            + " head_dim=8, vocab_size=128) needs (80, 64)",
        e.getMessage());
  }
}
