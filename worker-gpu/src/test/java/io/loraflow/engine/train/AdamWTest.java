package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.io.Safetensors;
import io.loraflow.engine.quant.Codebook8;
import io.loraflow.engine.quant.DynamicMap8;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** AdamW against torch.optim.AdamW (src/test/python/adamw_reference.py). */
class AdamWTest {

  private static TrainConfig config() {
    var b = TrainConfig.defaults().toBuilder();
    b.weightDecay = 0.01;
    return b.build();
  }

  private static float[] run(boolean eightBit) throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> ref =
          Safetensors.readAll(Path.of("src/test/resources/train/adamw_reference.safetensors"), m);
      NDArray p = ref.get("p0").duplicate();
      try (AdamW opt = new AdamW(m, List.of("p"), List.of(p), config(), eightBit)) {
        for (int i = 0; i < 5; i++) {
          opt.step(List.of(p), List.of(ref.get("grad" + i)), 1e-2, i + 1);
        }
      }
      float[] expected = ref.get("p5").toFloatArray();
      float[] actual = p.toFloatArray();
      if (!eightBit) {
        assertArrayEquals(expected, actual, 2e-6f);
      }
      // distance to torch relative to the distance travelled
      float[] start = ref.get("p0").toFloatArray();
      double err = 0;
      double moved = 0;
      for (int i = 0; i < expected.length; i++) {
        err += Math.pow(expected[i] - actual[i], 2);
        moved += Math.pow(expected[i] - start[i], 2);
      }
      return new float[] {(float) Math.sqrt(err / moved)};
    }
  }

  @Test
  void float32MatchesTorch() throws Exception {
    assertTrue(run(false)[0] < 1e-4);
  }

  @Test
  void eightBitTracksTorch() throws Exception {
    float rel = run(true)[0];
    // 8-bit moments (dynamic map, block 256) perturb the update by ~1%
    assertTrue(rel < 0.05, "relative deviation from torch AdamW " + rel);
  }

  /**
   * The 8-bit moments of several parameters live in one flat layout; each parameter's blocks are
   * its own, so a joint optimizer must give exactly what one optimizer per parameter gives - for
   * the weights and for every state array (the checkpoint views).
   */
  @Test
  void eightBitParametersAreIndependentInTheFlatLayout() {
    long[][] shapes = {{16, 300}, {5000}, {40, 16}, {7, 700}};
    try (NDManager m = NDManager.newBaseManager()) {
      Random rng = new Random(3);
      List<NDArray> joint = new java.util.ArrayList<>();
      List<NDArray> alone = new java.util.ArrayList<>();
      List<String> names = new java.util.ArrayList<>();
      for (int i = 0; i < shapes.length; i++) {
        NDArray p = m.randomNormal(new Shape(shapes[i]));
        joint.add(p.duplicate());
        alone.add(p.duplicate());
        names.add("p" + i);
      }
      // a small chunk: the joint update runs over several runs of parameters
      try (AdamW opt = new AdamW(m, names, joint, config(), true, 10000)) {
        AdamW[] single = new AdamW[shapes.length];
        for (int i = 0; i < shapes.length; i++) {
          single[i] = new AdamW(m, List.of(names.get(i)), List.of(alone.get(i)), config(), true);
        }
        for (int step = 1; step <= 3; step++) {
          List<NDArray> grads = new java.util.ArrayList<>();
          for (long[] s : shapes) {
            float[] g = new float[(int) new Shape(s).size()];
            for (int k = 0; k < g.length; k++) {
              g[k] = (float) rng.nextGaussian() * (k % 7 == 0 ? 10f : 0.1f);
            }
            grads.add(m.create(g, new Shape(s)));
          }
          opt.step(joint, grads, 1e-2, step);
          for (int i = 0; i < shapes.length; i++) {
            single[i].step(List.of(alone.get(i)), List.of(grads.get(i)), 1e-2, step);
          }
        }
        for (int i = 0; i < shapes.length; i++) {
          assertArrayEquals(alone.get(i).toFloatArray(), joint.get(i).toFloatArray(), 0f);
          for (Map.Entry<String, NDArray> e : single[i].state().entrySet()) {
            NDArray mine = opt.state().get(e.getKey());
            assertArrayEquals(
                e.getValue().toType(DataType.FLOAT32, false).toFloatArray(),
                mine.toType(DataType.FLOAT32, false).toFloatArray(),
                0f,
                e.getKey());
          }
          single[i].close();
        }
        // loading writes through the views into the flat layout
        Map<String, NDArray> saved = new java.util.LinkedHashMap<>();
        opt.state().forEach((k, v) -> saved.put(k, v.duplicate()));
        try (AdamW fresh = new AdamW(m, names, joint, config(), true)) {
          fresh.load(saved);
          for (String k : saved.keySet()) {
            assertArrayEquals(
                saved.get(k).toType(DataType.FLOAT32, false).toFloatArray(),
                fresh.state().get(k).toType(DataType.FLOAT32, false).toFloatArray(),
                0f,
                k);
          }
          // and the next update uses the loaded moments
          List<NDArray> copies = new java.util.ArrayList<>();
          List<NDArray> grads = new java.util.ArrayList<>();
          for (int i = 0; i < shapes.length; i++) {
            copies.add(joint.get(i).duplicate());
            grads.add(m.randomNormal(new Shape(shapes[i])));
          }
          opt.step(joint, grads, 1e-2, 4);
          fresh.step(copies, grads, 1e-2, 4);
          for (int i = 0; i < shapes.length; i++) {
            assertArrayEquals(joint.get(i).toFloatArray(), copies.get(i).toFloatArray(), 0f);
          }
        }
      }
    }
  }

  @Test
  void codebookSearchIsTheNearestValue() {
    float[] code = DynamicMap8.signed();
    try (NDManager m = NDManager.newBaseManager();
        Codebook8 book = new Codebook8(code, m)) {
      Random rng = new Random(1);
      float[] x = new float[20000];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (rng.nextDouble() * 2 - 1) * (i % 3 == 0 ? 0.001f : 1f);
      }
      byte[] idx = book.nearest(m.create(x)).toByteArray();
      for (int i = 0; i < x.length; i++) {
        int best = 0;
        for (int j = 1; j < 256; j++) {
          if (Math.abs(x[i] - code[j]) < Math.abs(x[i] - code[best])) {
            best = j;
          }
        }
        int got = idx[i] & 0xff;
        if (got != best) { // only an exact tie may differ
          assertEquals(Math.abs(x[i] - code[best]), Math.abs(x[i] - code[got]), 1e-7f, "x=" + x[i]);
        }
      }
      assertEquals(
          new Shape(3),
          book.lookup(m.create(new byte[] {0, 1, 2}, new Shape(3)).toType(DataType.UINT8, false))
              .getShape());
    }
  }
}
