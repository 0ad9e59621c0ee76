package io.loraflow.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GGUF parsing and dequantization against the Python gguf package (fixtures). */
class GgufFileTest {

  @TempDir Path tmp;

  @Test
  void readsMetadataOfEveryValueType() {
    try (GgufFile f = GgufFile.open(Fixtures.resource("io/quant_blocks.gguf"))) {
      assertEquals(3, f.version());
      assertEquals("llama", f.string("general.architecture"));
      assertEquals(200L, f.metadata().get("t.u8"));
      assertEquals(-100L, f.metadata().get("t.i8"));
      assertEquals(60000L, f.metadata().get("t.u16"));
      assertEquals(-30000L, f.metadata().get("t.i16"));
      assertEquals(4000000000L, f.metadata().get("t.u32"));
      assertEquals(-2000000000L, f.metadata().get("t.i32"));
      assertEquals(1.5f, f.metadata().get("t.f32"));
      assertEquals(true, f.metadata().get("t.bool"));
      assertEquals("héllo ✓", f.string("t.str"));
      assertEquals(1L << 40, f.metadata().get("t.u64"));
      assertEquals(-(1L << 40), f.metadata().get("t.i64"));
      assertEquals(0.1, f.metadata().get("t.f64"));
      assertEquals(List.of(1L, -2L, 3L), f.array("t.arr_i"));
      assertEquals(List.of("a", "bc", ""), f.array("t.arr_s"));
      assertEquals(0, f.dataOffset() % 32, "data section aligned");
      GgufFile.TensorInfo q4k = f.tensors().get("q4_k");
      assertArrayEquals(new long[] {512, 3}, q4k.dims(), "ggml order: ne0 first");
      assertArrayEquals(new long[] {3, 512}, q4k.torchShape());
      assertEquals(GgmlType.Q4_K, q4k.type());
      assertEquals(3 * 2 * 144, q4k.bytes());
    }
  }

  @Test
  void dequantizesEveryTypeLikeTheGgufPackage() {
    try (GgufFile f = GgufFile.open(Fixtures.resource("io/quant_blocks.gguf"));
        SafetensorsFile expected =
            Safetensors.open(Fixtures.resource("io/quant_blocks.expected.safetensors"));
        NDManager manager = NDManager.newBaseManager()) {
      for (String name : List.of("f32", "f16", "q8_0", "q4_0", "q4_1", "q4_k", "q6_k")) {
        GgufFile.TensorInfo t = f.tensors().get(name);
        ByteBuffer floats = f.dequantize(t);
        float[] ours = new float[floats.remaining() / 4];
        floats.asFloatBuffer().get(ours);
        NDArray want = expected.load(name, manager);
        assertArrayEquals(want.getShape().getShape(), t.torchShape(), name + " shape");
        // same float operations as ggml; numpy may round the last bit differently
        Fixtures.assertClose(want.toFloatArray(), ours, 1e-6, 1e-7, name);
      }
    }
  }

  // ---- bad input ----

  private Path cut(long keep) throws IOException {
    byte[] all = Files.readAllBytes(Fixtures.resource("io/quant_blocks.gguf"));
    Path p = tmp.resolve("cut.gguf");
    Files.write(p, Arrays.copyOf(all, (int) keep));
    return p;
  }

  @Test
  void truncatedHeaderFailsNamingTheFile() throws IOException {
    for (long keep : new long[] {0, 3, 20, 300, 1000}) {
      Path p = cut(keep);
      ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p));
      assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }
  }

  @Test
  void truncatedDataFailsNamingTheTensor() throws IOException {
    long size = Files.size(Fixtures.resource("io/quant_blocks.gguf"));
    Path p = cut(size - 100);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p));
    assertTrue(e.getMessage().contains("tensor 'q6_k'"), e.getMessage());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void badMagicAndVersionFail() throws IOException {
    byte[] all = Files.readAllBytes(Fixtures.resource("io/quant_blocks.gguf"));
    all[0] = 'X';
    Path p = tmp.resolve("magic.gguf");
    Files.write(p, all);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p));
    assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
    all[0] = 'G';
    all[4] = 1; // version 1
    Files.write(p, all);
    e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p));
    assertTrue(e.getMessage().contains("GGUF version 1"), e.getMessage());
  }

  @Test
  void unsupportedQuantTypeFailsOnOpenNamingTheTensor() {
    Path p = Fixtures.resource("io/unsupported_q5k.gguf");
    ModelFormatException e =
        assertThrows(ModelFormatException.class, () -> GgufWeightSource.open(p));
    assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("'token_embd.weight'"), e.getMessage());
    assertTrue(e.getMessage().contains("Q5_K"), e.getMessage());
  }
}
