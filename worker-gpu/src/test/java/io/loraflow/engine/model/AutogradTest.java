package io.loraflow.engine.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Backward runs through the blocks although each block frees its intermediates on return: the
 * gradient of a loss w.r.t. a linear weight equals a central finite difference.
 */
class AutogradTest {

  @ParameterizedTest
  @ValueSource(strings = {"llama_gqa_bias_llama3", "falcon_new_arch"})
  void gradientThroughBlocksMatchesFiniteDifference(String name) {
    FixtureModel f = FixtureModel.load(name);
    String module =
        name.startsWith("falcon")
            ? "transformer.h.0.self_attention.query_key_value"
            : "model.layers.0.self_attn.k_proj";
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
      NDArray weight = ((DenseLinear) model.linears().get(module)).weight();
      weight.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray loss = loss(model, ids, mask, positions);
        collector.backward(loss);
      }
      NDArray grad = weight.getGradient();
      float[] g = grad.toFloatArray();
      int probe = (int) grad.abs().argMax().getLong(); // the element that matters most
      long in = weight.getShape().get(1);
      int row = (int) (probe / in);
      int col = (int) (probe % in);
      float analytic = g[probe];
      weight.setRequiresGradient(false);

      float eps = 1e-2f;
      float base = weight.getFloat(row, col);
      weight.set(new ai.djl.ndarray.index.NDIndex(row + "," + col), base + eps);
      float plus = loss(model, ids, mask, positions).getFloat();
      weight.set(new ai.djl.ndarray.index.NDIndex(row + "," + col), base - eps);
      float minus = loss(model, ids, mask, positions).getFloat();
      weight.set(new ai.djl.ndarray.index.NDIndex(row + "," + col), base);
      float numeric = (plus - minus) / (2 * eps);
      double rel = Math.abs(analytic - numeric) / Math.max(1e-6, Math.abs(numeric));
      System.out.printf(
          "%s d loss/d %s[%d,%d]: autograd %.6g, finite diff %.6g%n",
          name, module, row, col, analytic, numeric);
      assertTrue(Math.abs(numeric) > 1e-4, "the probe element should matter");
      assertTrue(rel < 1e-2, name + ": autograd " + analytic + " vs finite difference " + numeric);
    }
  }

  /** Mean squared logits over the real tokens (any smooth scalar works). */
  private static NDArray loss(CausalLM model, NDArray ids, NDArray mask, NDArray positions) {
    NDArray logits = model.forward(ids, new AttentionStep(positions, mask, null));
    NDArray keep = mask.toType(DataType.FLOAT32, false).expandDims(-1);
    return logits.mul(logits).mul(keep).mean();
  }
}
