package io.loraflow.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraflow.engine.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json translation against what transformers' modules build from the same JSON. */
class HfConfigTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @Test
  void everyVariantMatchesTransformers() throws IOException {
    JsonNode cases = JSON.readTree(Fixtures.resource("io/hf_configs.json").toFile());
    List<String> seen = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = cases.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      seen.add(name);
      JsonNode x = e.getValue().get("expected");
      ModelConfig c = HfConfig.translate(e.getValue().get("config"), null, name);
      assertEquals(x.get("family").asText(), c.family().name(), name);
      assertEquals(100, c.vocabSize(), name);
      assertEquals(64, c.hiddenSize(), name);
      assertEquals(4, c.numHeads(), name);
      assertEquals(x.get("numKvHeads").asInt(), c.numKvHeads(), name + " kv heads");
      assertEquals(x.get("headDim").asInt(), c.headDim(), name + " head dim");
      assertEquals(x.get("intermediateSize").asInt(), c.intermediateSize(), name + " ffn");
      assertEquals(x.get("qkvBias").asBoolean(), c.qkvBias(), name + " qkv bias");
      assertEquals(x.get("outputBias").asBoolean(), c.outputBias(), name + " out bias");
      assertEquals(x.get("mlpBias").asBoolean(), c.mlpBias(), name + " mlp bias");
      assertEquals(x.get("normEps").asDouble(), c.normEps(), 1e-12, name + " eps");
      assertEquals(x.get("tieWordEmbeddings").asBoolean(), c.tieWordEmbeddings(), name + " tie");
      assertEquals(x.get("ropeTheta").asDouble(), c.ropeTheta(), name + " rope theta");
      assertEquals(x.get("maxPositions").asInt(), c.maxPositions(), name + " max pos");
      List<Integer> eos = new ArrayList<>();
      x.get("eosTokenIds").forEach(n -> eos.add(n.asInt()));
      assertEquals(eos, c.eosTokenIds(), name + " eos");
      String ropeType = x.get("ropeType").asText();
      if (ropeType.equals("default")) {
        assertNull(c.ropeScaling(), name);
      } else {
        assertEquals(ropeType, c.ropeScaling().type(), name);
        assertEquals(x.get("ropeFactor").asDouble(), c.ropeScaling().factor(), name);
      }
      if (c.family() == ModelConfig.Family.FALCON) {
        assertEquals(x.get("parallelAttn").asBoolean(), c.falcon().parallelAttn(), name);
        assertEquals(
            x.get("newDecoderArchitecture").asBoolean(), c.falcon().newDecoderArchitecture(), name);
        assertEquals(x.get("numLnInParallelAttn").asInt(), c.falcon().numLnInParallelAttn(), name);
      } else {
        assertEquals(x.get("slidingWindow").asInt(), c.slidingWindow(), name + " window");
      }
    }
    assertEquals(8, seen.size());
    ModelConfig llama3 = HfConfig.translate(cases.get("llama").get("config"), null, "llama");
    assertEquals(1.0, llama3.ropeScaling().lowFreqFactor());
    assertEquals(4.0, llama3.ropeScaling().highFreqFactor());
    assertEquals(1024, llama3.ropeScaling().originalMaxPositions());
  }

  @Test
  void refinedWebModelKeysOfTheOriginalFalcon7b() throws IOException {
    // the keys of tiiuae/falcon-7b's original config.json (trust_remote_code era)
    JsonNode rw =
        JSON.readTree(
            "{\"model_type\":\"RefinedWebModel\",\"hidden_size\":4544,\"n_head\":71,"
                + "\"n_layer\":32,\"vocab_size\":65024,\"multi_query\":true,\"parallel_attn\":true,"
                + "\"bias\":false,\"alibi\":false,\"layer_norm_epsilon\":1e-05,"
                + "\"bos_token_id\":11,\"eos_token_id\":11}");
    ModelConfig c = HfConfig.translate(rw, null, "falcon-7b/config.json");
    assertEquals(71, c.numHeads());
    assertEquals(1, c.numKvHeads());
    assertEquals(64, c.headDim());
    assertEquals(32, c.numLayers());
    assertEquals(4 * 4544, c.intermediateSize());
    assertEquals("gelu", c.hiddenAct());
    assertTrue(c.falcon().parallelAttn());
  }

  @Test
  void generationConfigEosIdsComeFirst() throws IOException {
    Path dir = tmp.resolve("m");
    Files.createDirectories(dir);
    ObjectNode cfg =
        (ObjectNode)
            JSON.readTree(Fixtures.resource("io/hf_configs.json").toFile())
                .get("llama")
                .get("config");
    JSON.writeValue(dir.resolve("config.json").toFile(), cfg);
    Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\":[9,3]}");
    assertEquals(List.of(9, 3, 7), HfConfig.read(dir).eosTokenIds());
  }

  @Test
  void unknownArchitectureNamesFileAndValue() throws IOException {
    Path dir = tmp.resolve("gpt");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"gpt_neox\"}");
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfConfig.read(dir));
    assertTrue(e.getMessage().contains(dir.resolve("config.json").toString()), e.getMessage());
    assertTrue(e.getMessage().contains("'gpt_neox'"), e.getMessage());
  }

  @Test
  void alibiFalconAndUnknownRopeAreClearErrors() throws IOException {
    JsonNode alibi =
        JSON.readTree(
            "{\"model_type\":\"falcon\",\"alibi\":true,\"hidden_size\":64,"
                + "\"num_attention_heads\":4,\"num_hidden_layers\":1,\"vocab_size\":10}");
    ModelFormatException e =
        assertThrows(ModelFormatException.class, () -> HfConfig.translate(alibi, null, "f.json"));
    assertTrue(e.getMessage().contains("alibi"), e.getMessage());
    JsonNode yarn =
        JSON.readTree(
            "{\"model_type\":\"llama\",\"hidden_size\":64,\"num_attention_heads\":4,"
                + "\"num_hidden_layers\":1,\"vocab_size\":10,\"intermediate_size\":8,"
                + "\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}}");
    e = assertThrows(ModelFormatException.class, () -> HfConfig.translate(yarn, null, "y.json"));
    assertTrue(e.getMessage().contains("'yarn'") && e.getMessage().contains("y.json"));
    JsonNode missing = JSON.readTree("{\"model_type\":\"llama\",\"hidden_size\":64}");
    e = assertThrows(ModelFormatException.class, () -> HfConfig.translate(missing, null, "m.json"));
    assertTrue(e.getMessage().contains("num_attention_heads"), e.getMessage());
  }
}
