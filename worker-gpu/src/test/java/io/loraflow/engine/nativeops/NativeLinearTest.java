package io.loraflow.engine.nativeops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import io.loraflow.engine.lora.BaseFormat;
import io.loraflow.engine.lora.LoraConfig;
import io.loraflow.engine.lora.LoraLinear;
import io.loraflow.engine.lora.LoraLinearFactory;
import io.loraflow.engine.model.Linear;
import io.loraflow.engine.quant.Nf4Linear;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the native block functions are handed for a linear module (CPU: only the descriptors, no
 * native call): which modules qualify, and the packed layout loraflow_native.cc's readLinears
 * expects (9 handles, offset, (out, in), scaling, the dropout in effect).
 */
class NativeLinearTest {

  private static Linear make(
      NDManager m, BaseFormat format, String name, List<String> targets, double dropout) {
    LoraLinearFactory f =
        new LoraLinearFactory(
            LoraConfig.of(4, 8, dropout, targets), format, DataType.FLOAT32, m, 7);
    return f.create(name, m.randomNormal(0f, 0.02f, new Shape(24, 128), DataType.FLOAT32), null);
  }

  @Test
  void nf4LoraLinearsQualifyAndPackInTheNativeLayout() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      LoraLinear lora =
          (LoraLinear)
              make(m, BaseFormat.NF4, "model.layers.0.mlp.up_proj", List.of("up_proj"), 0.1);
      NativeLinear d = NativeLinear.of(lora);
      assertNotNull(d);
      NativeLinear.Packed p = NativeLinear.pack(new NativeLinear[] {d, d});
      assertEquals(18, p.handles().length);
      assertArrayEquals(new long[] {24, 128, 24, 128}, p.shapes());
      long[] h = p.handles();
      assertEquals(((PtNDArray) lora.loraA()).getHandle(), h[7]);
      assertEquals(((PtNDArray) lora.loraB()).getHandle(), h[8]);
      assertEquals(0, h[1], "double-quantized: no float32 absmax");
      assertEquals(0, h[6], "no bias");
      assertEquals(lora.scaling(), p.lora()[0], 1e-12);
      assertEquals(0, p.lora()[1], "dropout only while training");
      lora.setTraining(true);
      // LoraLinear keeps p as a float, as the plain path uses it
      assertEquals(0.1f, NativeLinear.pack(new NativeLinear[] {d}).lora()[1], 0);
    }
  }

  @Test
  void frozenNf4LinearsQualifyWithoutLora() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      Linear base =
          make(m, BaseFormat.NF4_PLAIN_ABSMAX, "model.layers.0.mlp.up_proj", List.of("q_proj"), 0);
      NativeLinear d = NativeLinear.of(base);
      assertNotNull(d);
      long[] h = NativeLinear.pack(new NativeLinear[] {d}).handles();
      assertEquals(0, h[7]);
      assertEquals(0, h[8]);
      assertEquals(0, h[2], "plain absmax: no absmax codes");
    }
  }

  @Test
  void denseBasesAndKeptWeightsRunTheJavaPath() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      Linear dense = make(m, BaseFormat.DENSE, "model.layers.0.mlp.up_proj", List.of("up_proj"), 0);
      assertNull(NativeLinear.of(dense));
      Nf4Linear kept =
          (Nf4Linear) make(m, BaseFormat.NF4, "model.layers.0.mlp.up_proj", List.of("q_proj"), 0);
      kept.keepDequantized(true);
      assertNull(NativeLinear.of(kept));
      assertNull(NativeLinear.allOf(List.of(dense, kept)));
    }
  }
}
