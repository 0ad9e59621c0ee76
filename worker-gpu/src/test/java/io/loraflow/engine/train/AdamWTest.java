package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.lora.AdapterSafetensors;
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
          AdapterSafetensors.read(
              Path.of("src/test/resources/train/adamw_reference.safetensors"), m);
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
