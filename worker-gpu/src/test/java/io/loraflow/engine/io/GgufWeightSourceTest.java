package io.loraflow.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.model.ModelConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** GGUF tensors under HF names/layouts against transformers' own GGUF loading. */
class GgufWeightSourceTest {

  @Test
  void tinyLlamaMatchesTransformersStateDict() {
    try (GgufWeightSource src = GgufWeightSource.open(Fixtures.resource("io/tiny_llama.gguf"));
        SafetensorsFile ref =
            Safetensors.open(Fixtures.resource("io/tiny_llama.hf_reference.safetensors"));
        NDManager manager = NDManager.newBaseManager()) {
      assertEquals(ref.names(), src.names(), "HF names");
      for (String name : ref.names()) {
        NDArray want = ref.load(name, manager);
        assertEquals(want.getShape(), src.shape(name), name);
        NDArray got = src.load(name, manager, DataType.FLOAT32);
        Fixtures.assertClose(want, got, 1e-6, 1e-7, name);
      }
      ModelConfig c = src.config();
      assertEquals(ModelConfig.Family.LLAMA, c.family());
      assertEquals(269, c.vocabSize());
      assertEquals(64, c.hiddenSize());
      assertEquals(96, c.intermediateSize());
      assertEquals(2, c.numLayers());
      assertEquals(4, c.numHeads());
      assertEquals(2, c.numKvHeads());
      assertEquals(16, c.headDim());
      assertEquals(256, c.maxPositions());
      assertEquals(9.999999747378752e-06, c.normEps(), 1e-15);
      assertEquals(10000.0, c.ropeTheta());
      assertFalse(c.tieWordEmbeddings());
      assertEquals(1, c.bosTokenId());
      assertEquals(List.of(2), c.eosTokenIds());
    }
  }

  @Test
  void smollm2MatchesTransformersTensors() {
    try (GgufWeightSource src = GgufWeightSource.open(Fixtures.smollm2Gguf());
        SafetensorsFile ref =
            Safetensors.open(Fixtures.resource("io/smollm2_hf_tensors.safetensors"));
        NDManager manager = NDManager.newBaseManager()) {
      ModelConfig c = src.config();
      assertEquals(49152, c.vocabSize());
      assertEquals(576, c.hiddenSize());
      assertEquals(1536, c.intermediateSize());
      assertEquals(30, c.numLayers());
      assertEquals(9, c.numHeads());
      assertEquals(3, c.numKvHeads());
      assertEquals(64, c.headDim());
      assertEquals(8192, c.maxPositions());
      assertEquals(100000.0, c.ropeTheta());
      assertTrue(c.tieWordEmbeddings());
      assertEquals(List.of(2), c.eosTokenIds());
      assertFalse(src.names().contains("lm_head.weight"), "tied: no lm_head");
      assertEquals(272, src.names().size());
      assertEquals(GgmlType.Q8_0, src.info("model.embed_tokens.weight").type());
      assertEquals(GgmlType.Q4_1, src.info("model.layers.0.self_attn.q_proj.weight").type());

      for (String name : ref.names()) {
        NDArray want = ref.load(name, manager);
        NDArray got = src.load(name, manager, DataType.FLOAT32);
        long rows = want.getShape().get(0);
        long first = name.equals("model.layers.29.self_attn.k_proj.weight") ? 64 : 0;
        if (got.getShape().dimension() > 1) {
          got = got.get(new NDIndex("{}:{}", first, first + rows));
        }
        Fixtures.assertClose(want, got, 1e-6, 1e-7, name);
      }
    }
  }

  @Test
  void bandedAssemblyGivesTheSameTensors() {
    // 1 KiB bands: every matrix is read in several bands and concatenated
    try (GgufWeightSource src =
            GgufWeightSource.open(Fixtures.resource("io/tiny_llama.gguf"), 1024);
        SafetensorsFile ref =
            Safetensors.open(Fixtures.resource("io/tiny_llama.hf_reference.safetensors"));
        NDManager manager = NDManager.newBaseManager()) {
      for (String name : ref.names()) {
        Fixtures.assertClose(
            ref.load(name, manager), src.load(name, manager, DataType.FLOAT32), 1e-6, 1e-7, name);
      }
    }
  }

  @Test
  void unknownGgufArchitectureNamesFileAndValue(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws IOException {
    byte[] all = Files.readAllBytes(Fixtures.resource("io/tiny_llama.gguf"));
    // general.architecture = "llama" -> "gpt2x" (same length, so the layout stays valid)
    String text = new String(all, StandardCharsets.ISO_8859_1);
    int value = text.indexOf("llama", text.indexOf("general.architecture"));
    System.arraycopy("gpt2x".getBytes(StandardCharsets.US_ASCII), 0, all, value, 5);
    Path p = tmp.resolve("gpt2x.gguf");
    Files.write(p, all);
    ModelFormatException e =
        assertThrows(ModelFormatException.class, () -> GgufWeightSource.open(p));
    assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("'gpt2x'"), e.getMessage());
  }

  @Test
  void missingTensorNamesFileAndTensor() {
    try (GgufWeightSource src = GgufWeightSource.open(Fixtures.resource("io/tiny_llama.gguf"));
        NDManager manager = NDManager.newBaseManager()) {
      ModelFormatException e =
          assertThrows(
              ModelFormatException.class,
              () -> src.load("model.layers.7.mlp.up_proj.weight", manager, DataType.FLOAT32));
      assertTrue(e.getMessage().contains("tiny_llama.gguf"), e.getMessage());
      assertTrue(e.getMessage().contains("model.layers.7.mlp.up_proj.weight"), e.getMessage());
    }
  }

  @Test
  void loadsInHalfPrecision() {
    try (GgufWeightSource src = GgufWeightSource.open(Fixtures.resource("io/tiny_llama.gguf"));
        NDManager manager = NDManager.newBaseManager()) {
      NDArray h = src.load("model.layers.1.self_attn.k_proj.weight", manager, DataType.FLOAT16);
      assertEquals(DataType.FLOAT16, h.getDataType());
      NDArray f = src.load("model.layers.1.self_attn.k_proj.weight", manager, DataType.FLOAT32);
      Fixtures.assertClose(f, h.toType(DataType.FLOAT32, false), 1e-3, 1e-4, "fp16 load");
    }
  }
}
