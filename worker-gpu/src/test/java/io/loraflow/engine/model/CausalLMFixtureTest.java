package io.loraflow.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Logits of our Llama/Falcon forward against HF transformers on the same random weights (fixtures
 * from src/test/python/make_model_fixtures.py), on the real (unpadded) positions of a batch with
 * one left-padded row.
 */
class CausalLMFixtureTest {

  static List<String> fixtures() {
    return FixtureModel.all();
  }

  /** max |ours - ref| / max |ref| over the real tokens of the batch. */
  static double relativeError(NDArray ours, NDArray ref, NDArray mask) {
    NDArray keep = mask.toType(DataType.FLOAT32, false).expandDims(-1);
    NDArray diff = ours.toType(DataType.FLOAT32, false).sub(ref).abs().mul(keep).max();
    NDArray scale = ref.abs().mul(keep).max();
    return diff.getFloat() / scale.getFloat();
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void fp32LogitsMatchTransformers(String name) {
    FixtureModel f = FixtureModel.load(name);
    try (NDManager m = NDManager.newBaseManager(Device.cpu());
        CausalLM model =
            Models.build(
                f.source(),
                DenseLinear.factory(DataType.FLOAT32, Device.cpu()),
                DataType.FLOAT32,
                Device.cpu())) {
      NDArray ids = f.expected("input_ids", m);
      NDArray mask = f.expected("attention_mask", m);
      NDArray positions = f.expected("position_ids", m);
      NDArray ref = f.expected("logits", m);
      NDArray logits = model.forward(ids, new AttentionStep(positions, mask, null));
      assertEquals(ref.getShape(), logits.getShape());
      double err = relativeError(logits, ref, mask);
      System.out.printf("%s fp32 rel err %.3g%n", name, err);
      assertTrue(err < 1e-4, name + ": fp32 relative error " + err);
    }
  }

  /** The same fixtures computed in fp16 (weights and activations) on the CPU. */
  @ParameterizedTest
  @MethodSource("fixtures")
  void fp16LogitsMatchTransformers(String name) {
    FixtureModel f = FixtureModel.load(name);
    try (NDManager m = NDManager.newBaseManager(Device.cpu());
        CausalLM model =
            Models.build(
                f.source(),
                DenseLinear.factory(DataType.FLOAT16, Device.cpu()),
                DataType.FLOAT16,
                Device.cpu())) {
      NDArray mask = f.expected("attention_mask", m);
      NDArray logits =
          model.forward(
              f.expected("input_ids", m),
              new AttentionStep(f.expected("position_ids", m), mask, null));
      assertEquals(DataType.FLOAT16, logits.getDataType());
      double err = relativeError(logits, f.expected("logits", m), mask);
      System.out.printf("%s fp16 rel err %.3g%n", name, err);
      assertTrue(err < 1e-2, name + ": fp16 relative error " + err);
    }
  }

  /**
   * Dynamic NTK rope is left out: HF rescales by the longest position in the whole batch, so a
   * padded batch legitimately differs from a lone row there.
   */
  static List<String> batchInvariantFixtures() {
    return fixtures().stream().filter(n -> !n.contains("dynamic")).toList();
  }

  @ParameterizedTest
  @MethodSource("batchInvariantFixtures")
  void paddingDoesNotChangeRealTokens(String name) {
    FixtureModel f = FixtureModel.load(name);
    try (NDManager m = NDManager.newBaseManager(Device.cpu());
        CausalLM model =
            Models.build(
                f.source(),
                DenseLinear.factory(DataType.FLOAT32, Device.cpu()),
                DataType.FLOAT32,
                Device.cpu())) {
      NDArray ids = f.expected("input_ids", m);
      NDArray mask = f.expected("attention_mask", m);
      NDArray positions = f.expected("position_ids", m);
      long pad = ids.getShape().get(1) - mask.get(1).sum().getLong();
      NDArray padded =
          model
              .forward(ids, new AttentionStep(positions, mask, null))
              .get(new NDIndex("1, {}:", pad));
      NDArray alone =
          model
              .forward(ids.get(new NDIndex("1:2, {}:", pad)), new AttentionStep(null, null, null))
              .get(0);
      double err = padded.sub(alone).abs().max().getFloat() / alone.abs().max().getFloat();
      assertTrue(err < 1e-5, name + ": padded row differs from the unpadded run by " + err);
    }
  }
}
