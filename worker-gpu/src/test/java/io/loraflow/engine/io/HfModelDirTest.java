package io.loraflow.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A sharded bf16 checkpoint written by transformers' save_pretrained. */
class HfModelDirTest {

  @TempDir Path tmp;

  @Test
  void shardedBf16CheckpointLoadsAsTransformersHasIt() {
    try (HfModelDir dir = HfModelDir.open(Fixtures.resource("io/tiny_llama_sharded"));
        SafetensorsFile ref =
            Safetensors.open(
                Fixtures.resource("io/tiny_llama_sharded.fp32_reference.safetensors"));
        NDManager manager = NDManager.newBaseManager()) {
      ModelConfig c = dir.config();
      assertEquals(64, c.vocabSize());
      assertEquals(2, c.numKvHeads());
      assertEquals(8, c.headDim());
      assertEquals(50000.0, c.ropeTheta());
      assertEquals("linear", c.ropeScaling().type());
      assertEquals(2.0, c.ropeScaling().factor());
      assertEquals(List.of(2, 3), c.eosTokenIds());
      assertEquals(2, dir.tensorFiles().values().stream().distinct().count(), "two shards");
      assertEquals(2 + 2 * 9 + 1, dir.names().size());
      for (String name : ref.names()) {
        NDArray want = ref.load(name, manager);
        NDArray got = dir.load(name, manager, DataType.FLOAT32);
        // bf16 -> fp32 is exact
        Fixtures.assertClose(want, got, 0, 0, name);
        NDArray half = dir.load(name, manager, DataType.FLOAT16);
        assertEquals(DataType.FLOAT16, half.getDataType());
      }
    }
  }

  private Path copyOfFixture() throws IOException {
    Path src = Fixtures.resource("io/tiny_llama_sharded");
    Path dst = tmp.resolve("model");
    Files.createDirectories(dst);
    try (Stream<Path> files = Files.list(src)) {
      for (Path f : files.toList()) {
        Files.copy(f, dst.resolve(f.getFileName()));
      }
    }
    return dst;
  }

  @Test
  void missingShardIsNamed() throws IOException {
    Path dir = copyOfFixture();
    Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfModelDir.open(dir));
    assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors"), e.getMessage());
  }

  @Test
  void truncatedShardNamesFileAndTensor() throws IOException {
    Path dir = copyOfFixture();
    Path shard = dir.resolve("model-00001-of-00002.safetensors");
    byte[] all = Files.readAllBytes(shard);
    Files.write(shard, java.util.Arrays.copyOf(all, all.length - 10));
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfModelDir.open(dir));
    assertTrue(e.getMessage().contains(shard.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("tensor '"), e.getMessage());
  }

  @Test
  void tensorMissingFromShardAndFromModelAreNamed() throws IOException {
    Path dir = copyOfFixture();
    Path index = dir.resolve("model.safetensors.index.json");
    Files.writeString(
        index,
        Files.readString(index)
            .replace(
                "\"weight_map\": {",
                "\"weight_map\": {\"model.extra.weight\": "
                    + "\"model-00001-of-00002.safetensors\", "));
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfModelDir.open(dir));
    assertTrue(e.getMessage().contains("model.extra.weight"), e.getMessage());

    try (HfModelDir ok = HfModelDir.open(Fixtures.resource("io/tiny_llama_sharded"));
        NDManager manager = NDManager.newBaseManager()) {
      e =
          assertThrows(
              ModelFormatException.class, () -> ok.load("lm_head.bias", manager, DataType.FLOAT32));
      assertTrue(e.getMessage().contains("'lm_head.bias'"), e.getMessage());
      assertTrue(e.getMessage().contains("tiny_llama_sharded"), e.getMessage());
    }
  }

  @Test
  void directoryWithoutSafetensorsSaysSo() throws IOException {
    Path dir = tmp.resolve("bin");
    Files.createDirectories(dir);
    Files.copy(Fixtures.resource("io/tiny_llama_sharded/config.json"), dir.resolve("config.json"));
    Files.writeString(dir.resolve("pytorch_model.bin"), "x");
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfModelDir.open(dir));
    assertTrue(e.getMessage().contains("pytorch_model.bin"), e.getMessage());
  }
}
