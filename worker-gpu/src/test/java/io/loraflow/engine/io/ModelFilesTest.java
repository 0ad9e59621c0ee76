package io.loraflow.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFilesTest {

  @TempDir static Path cache;
  @TempDir Path tmp;

  @BeforeAll
  static void isolateCache() {
    System.setProperty("loraflow.cache", cache.toString());
  }

  @Test
  void ggufFileGivesWeightsTokenizerTemplateAndEos() {
    try (ModelFiles files = ModelFiles.open(Fixtures.resource("io/tiny_llama.gguf"))) {
      assertTrue(files.weights() instanceof GgufWeightSource);
      assertEquals(List.of(2), files.eosTokenIds());
      assertTrue(files.chatTemplate().orElseThrow().contains("<|im_start|>"));
      Path tok = files.tokenizerJson();
      assertTrue(tok.startsWith(cache.resolve("converted")), tok.toString());
      assertTrue(Files.isRegularFile(tok.resolveSibling("tokenizer_config.json")));
      // a second open reuses the conversion
      try (ModelFiles again = ModelFiles.open(Fixtures.resource("io/tiny_llama.gguf"))) {
        assertEquals(tok, again.tokenizerJson());
      }
    }
  }

  @Test
  void hfDirectoryGivesItsOwnFiles() {
    Path dir = Fixtures.resource("io/tiny_llama_sharded");
    try (ModelFiles files = ModelFiles.open(dir)) {
      assertTrue(files.weights() instanceof HfModelDir);
      assertEquals(List.of(2, 3), files.eosTokenIds());
      assertEquals(Optional.empty(), files.chatTemplate());
      ModelFormatException e = assertThrows(ModelFormatException.class, files::tokenizerJson);
      assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }
  }

  @Test
  void exportedHfDirHoldsTheSameModel() throws IOException {
    Path out = tmp.resolve("export");
    ModelConfig original;
    try (ModelFiles files = ModelFiles.open(Fixtures.resource("io/tiny_llama.gguf"))) {
      original = files.config();
      files.exportHfDir(out);
    }
    for (String f :
        List.of(
            "config.json",
            "generation_config.json",
            "tokenizer.json",
            "tokenizer_config.json",
            "model.safetensors")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f);
    }
    try (ModelFiles back = ModelFiles.open(out);
        SafetensorsFile ref =
            Safetensors.open(Fixtures.resource("io/tiny_llama.hf_reference.safetensors"));
        NDManager manager = NDManager.newBaseManager()) {
      assertEquals(original, back.config(), "config.json round trip");
      assertEquals(ref.names(), back.weights().names());
      for (String name : ref.names()) {
        NDArray got = back.weights().load(name, manager, null);
        assertEquals(DataType.FLOAT16, got.getDataType(), name);
        Fixtures.assertClose(
            ref.load(name, manager), got.toType(DataType.FLOAT32, false), 1e-3, 1e-4, name);
      }
      assertFalse(back.tokenizerJson().startsWith(cache));
    }
  }

  @Test
  void missingPathIsNamed() {
    Path nowhere = tmp.resolve("nope.gguf");
    ModelFormatException e =
        assertThrows(ModelFormatException.class, () -> ModelFiles.open(nowhere));
    assertTrue(e.getMessage().contains(nowhere.toString()), e.getMessage());
  }
}
