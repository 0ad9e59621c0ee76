package io.loraflow.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Incremental decoding with the KV cache against recomputing the whole sequence each step. */
class KvCacheTest {

  static final int NEW_TOKENS = 6;

  /**
   * Dynamic NTK rope is left out: there (as in HF) cached keys keep the rotation of the step that
   * wrote them while a full recompute re-rotates all keys with the newest base.
   */
  static List<String> fixtures() {
    return FixtureModel.all().stream().filter(n -> !n.contains("dynamic")).toList();
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void cachedGreedyEqualsFullRecomputation(String name) {
    FixtureModel f = FixtureModel.load(name);
    try (NDManager m = NDManager.newBaseManager(Device.cpu());
        CausalLM model =
            Models.build(
                f.source(),
                DenseLinear.factory(DataType.FLOAT32, Device.cpu()),
                DataType.FLOAT32,
                Device.cpu());
        DynamicKvCache cache = new DynamicKvCache(f.config.numLayers(), m)) {
      long[] prompt = f.expected("input_ids", m).get(0).toLongArray();

      long[] full = Arrays.copyOf(prompt, prompt.length + NEW_TOKENS);
      long[] cached = Arrays.copyOf(prompt, prompt.length + NEW_TOKENS);
      NDArray input = m.create(prompt, new Shape(1, prompt.length));
      int len = prompt.length;
      for (int step = 0; step < NEW_TOKENS; step++) {
        try (NDManager s = m.newSubManager()) {
          NDArray all = s.create(Arrays.copyOf(full, len), new Shape(1, len));
          NDArray fullLogits =
              model.forward(all, new AttentionStep(null, null, null)).get(new NDIndex("0, -1"));

          NDArray positions =
              s.arange(cache.length(), len).toType(DataType.INT64, false).reshape(1, -1);
          NDArray cachedLogits =
              model
                  .forward(input, new AttentionStep(positions, null, cache))
                  .get(new NDIndex("0, -1"));
          double err =
              fullLogits.sub(cachedLogits).abs().max().getFloat()
                  / fullLogits.abs().max().getFloat();
          assertTrue(err < 1e-5, name + " step " + step + ": cached logits differ by " + err);

          full[len] = fullLogits.argMax().getLong();
          cached[len] = cachedLogits.argMax().getLong();
          input = m.create(new long[] {cached[len]}, new Shape(1, 1));
          len++;
        }
      }
      assertArrayEquals(full, cached, name + ": cached greedy tokens");
      assertTrue(cache.length() == len - 1, "cache holds every position but the last token");
    }
  }
}
