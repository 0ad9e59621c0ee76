package io.loraflow.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.engine.io.Fixtures;
import io.loraflow.engine.io.GgufFile;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tokenizer.ggml.pre variants (Llama 3's and Qwen2's split regexes, BOS from add_bos_token) against
 * transformers' GGUF tokenizer conversion on vocabularies whose merges cross the split points.
 */
class PreTokenizerGgufTest {

  @TempDir Path tmp;

  private static long[] ids(JsonNode a) {
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asLong();
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama-bpe", "qwen2"})
  void idsEqualTransformers(String pre) throws IOException {
    JsonNode cases =
        new ObjectMapper()
            .readTree(Fixtures.resource("tokenizer/tiny_vocab_pre_ids.json").toFile())
            .get(pre);
    Path json;
    try (GgufFile gguf = GgufFile.open(Fixtures.resource("io/tiny_vocab_" + pre + ".gguf"))) {
      json = new GgufTokenizerConverter().convert(gguf, tmp.resolve(pre));
    }
    try (TextTokenizer tok = TextTokenizer.open(json)) {
      for (JsonNode c : cases) {
        String text = c.get("text").asText();
        assertArrayEquals(ids(c.get("ids")), tok.encode(text, false), pre + " " + c.get("text"));
        assertArrayEquals(
            ids(c.get("ids_with_special")), tok.encode(text, true), pre + " +special " + text);
      }
      assertEquals(7, cases.size());
    }
  }
}
