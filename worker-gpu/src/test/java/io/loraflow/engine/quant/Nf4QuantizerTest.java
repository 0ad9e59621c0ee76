package io.loraflow.engine.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.io.Safetensors;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * NF4 + double quantization against bitsandbytes' reference kernels, reimplemented in torch by
 * src/test/python/nf4_reference.py (bitsandbytes itself needs CUDA to install).
 */
class Nf4QuantizerTest {

  private static NDManager manager;
  private static Map<String, NDArray> ref;

  @BeforeAll
  static void load() throws Exception {
    manager = NDManager.newBaseManager();
    ref =
        Safetensors.readAll(Path.of("src/test/resources/quant/nf4_reference.safetensors"), manager);
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  @org.junit.jupiter.api.Test
  void dynamicMapsEqualBitsandbytes() {
    assertArrayEquals(ref.get("dynamic_map_signed").toFloatArray(), DynamicMap8.signed());
    assertArrayEquals(ref.get("dynamic_map_unsigned").toFloatArray(), DynamicMap8.unsigned());
  }

  @ParameterizedTest
  @ValueSource(strings = {"gauss", "heavy", "half"})
  void codesAndAbsmaxEqualReference(String name) {
    try (NDManager m = manager.newSubManager()) {
      NDArray w = ref.get(name + ".weight");
      Nf4Tensor plain = new Nf4Quantizer(false).quantize(w, m);
      assertArrayEquals(ref.get(name + ".packed").toByteArray(), plain.packed().toByteArray());
      assertArrayEquals(ref.get(name + ".absmax").toFloatArray(), plain.absmax(m).toFloatArray());

      Nf4Tensor dq = new Nf4Quantizer(true).quantize(w, m);
      assertArrayEquals(ref.get(name + ".packed").toByteArray(), dq.packed().toByteArray());
      int blocks = Math.toIntExact(ref.get(name + ".absmax").size());
      byte[] codes = dq.absmaxCodes().toByteArray();
      byte[] expectedCodes = ref.get(name + ".dq_codes").toByteArray();
      assertArrayEquals(expectedCodes, java.util.Arrays.copyOf(codes, blocks));
      assertArrayEquals(
          ref.get(name + ".dq_absmax2").toFloatArray(), dq.absmaxScales().toFloatArray());
      assertEquals(ref.get(name + ".dq_offset").getFloat(0), dq.absmaxOffset());
      assertArrayEquals(
          ref.get(name + ".dq_absmax").toFloatArray(), dq.absmax(m).toFloatArray(), 1e-9f);
      float[] expected = ref.get(name + ".dequant").toFloatArray();
      float[] actual = dq.dequantize(DataType.FLOAT32, m).toFloatArray();
      assertArrayEquals(expected, actual, 1e-7f);
    }
  }

  @org.junit.jupiter.api.Test
  void roundTripErrorIsBoundedByHalfTheWidestCodeGap() {
    try (NDManager m = manager.newSubManager()) {
      NDArray w = m.randomNormal(0, 0.02f, new Shape(256, 512), DataType.FLOAT32);
      Nf4Tensor q = new Nf4Quantizer(true).quantize(w, m);
      NDArray back = new Nf4Quantizer(false).quantize(w, m).dequantize(DataType.FLOAT32, m);
      // widest gap of the NF4 table: 1.0 - 0.7229568 -> half of it is the worst rounding error,
      // relative to the block absmax; double quantization adds a small absmax error on top.
      float[] code = Nf4Code.values();
      float widest = 0;
      for (int i = 1; i < code.length; i++) {
        widest = Math.max(widest, code[i] - code[i - 1]);
      }
      NDArray blockErr = back.sub(w).abs().reshape(-1, 64).max(new int[] {1});
      NDArray blockMax = w.abs().reshape(-1, 64).max(new int[] {1});
      float worst = blockErr.div(blockMax).max().getFloat();
      assertTrue(worst <= widest / 2 * 1.0001f, "worst relative error " + worst);
      // double quantization perturbs each block's absmax by at most ~1% (dynamic map step)
      NDArray backDq = q.dequantize(DataType.FLOAT32, m);
      float worstDq =
          backDq.sub(w).abs().reshape(-1, 64).max(new int[] {1}).div(blockMax).max().getFloat();
      assertTrue(
          worstDq <= widest / 2 + 0.02f, "worst relative error with double quant " + worstDq);
      // NF4 error on gaussian weights: mean |err| / mean |w| is about 0.1 (QLoRA paper, fig. 3)
      float rel = back.sub(w).abs().mean().getFloat() / w.abs().mean().getFloat();
      assertTrue(rel > 0.03 && rel < 0.15, "mean relative error " + rel);
      assertEquals(0.5157, q.bytesPerParameter(), 0.0005);
      assertEquals(0.5625, new Nf4Quantizer(false).quantize(w, m).bytesPerParameter(), 1e-6);
    }
  }

  @org.junit.jupiter.api.Test
  void zeroBlockAndOddLengthRoundTrip() {
    try (NDManager m = manager.newSubManager()) {
      float[] values = new float[3 * 64 + 10];
      for (int i = 64; i < values.length; i++) {
        values[i] = (float) Math.sin(i) * 0.5f; // block 0 stays all zero
      }
      NDArray w = m.create(values, new Shape(values.length));
      Nf4Tensor q = new Nf4Quantizer(true).quantize(w, m);
      float[] back = q.dequantize(DataType.FLOAT32, m).toFloatArray();
      assertEquals(values.length, back.length);
      for (int i = 0; i < 64; i++) {
        assertEquals(0f, back[i]);
      }
      // the largest magnitude of a block is reproduced up to the double-quantized absmax
      assertEquals(values[values.length - 1], back[back.length - 1], 0.2f);
    }
  }

  /**
   * The float16 dequantization (fp16 table x fp16 absmax, one rounding from float32 arithmetic) is
   * within two fp16 steps of the float32 route rounded to fp16 (table and absmax are rounded to
   * fp16 before the product, each half a step at most), and the decoded-absmax cache changes
   * nothing.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void float16DequantizationMatchesTheFloat32Route(boolean doubleQuant) {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray w = m.randomNormal(0f, 0.02f, new Shape(96, 200), DataType.FLOAT32);
      Nf4Tensor q = new Nf4Quantizer(doubleQuant).quantize(w, m);
      float[] wide =
          q.dequantize(DataType.FLOAT32, m)
              .toType(DataType.FLOAT16, false)
              .toType(DataType.FLOAT32, false)
              .toFloatArray();
      float[] half =
          q.dequantize(DataType.FLOAT16, m).toType(DataType.FLOAT32, false).toFloatArray();
      for (int i = 0; i < wide.length; i++) {
        // one fp16 ulp at |x|: 2^(floor(log2|x|) - 10)
        double ulp = Math.scalb(1.0, Math.getExponent(Math.max(Math.abs(wide[i]), 6.1e-5f)) - 10);
        assertTrue(Math.abs(wide[i] - half[i]) <= 2 * ulp, i + ": " + wide[i] + " vs " + half[i]);
      }
      q.cacheDecodedAbsmax(true);
      assertEquals(2L * ((96 * 200 + 63) / 64), q.cachedBytes());
      assertArrayEquals(
          half, q.dequantize(DataType.FLOAT16, m).toType(DataType.FLOAT32, false).toFloatArray());
      q.cacheDecodedAbsmax(false);
      assertEquals(0, q.cachedBytes());
    }
  }
}
