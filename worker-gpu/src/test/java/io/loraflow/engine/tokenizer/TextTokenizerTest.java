package io.loraflow.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.engine.io.Fixtures;
import io.loraflow.engine.io.ModelFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokenizers converted from GGUF against the reference tokenizer's ids (fixtures). */
class TextTokenizerTest {

  @TempDir static Path cache;

  @BeforeAll
  static void isolateCache() {
    System.setProperty("loraflow.cache", cache.toString());
  }

  private static long[] ids(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }

  @Test
  void smollm2IdsEqualTheReference() throws IOException {
    JsonNode cases =
        new ObjectMapper().readTree(Fixtures.resource("tokenizer/smollm2_token_ids.json").toFile());
    try (ModelFiles files = ModelFiles.open(Fixtures.smollm2Gguf());
        TextTokenizer tok = files.tokenizer()) {
      assertTrue(files.tokenizerJson().startsWith(cache), "converted into the cache");
      int n = 0;
      for (JsonNode c : cases) {
        String text = c.get("text").asText();
        long[] want = ids(c.get("ids"));
        assertArrayEquals(want, tok.encode(text, false), "ids of " + c.get("text"));
        assertArrayEquals(want, tok.encode(text, true), "SmolLM2 adds no BOS: " + c.get("text"));
        assertEquals(c.get("decoded").asText(), tok.decode(want), "decode of " + c.get("text"));
        n++;
      }
      assertEquals(30, n);
      assertEquals(List.of(2), tok.eosTokenIds());
      assertEquals(Optional.of(1), tok.specialTokenId("<|im_start|>"));
      assertEquals(Optional.of(2), tok.specialTokenId("<|im_end|>"));
      assertEquals("Hi", tok.decode(new long[] {1, 26843, 2}, true));
    }
  }

  @Test
  void smollm2ChatTemplateFromGgufRendersLikeTransformers() throws IOException {
    JsonNode cases =
        new ObjectMapper().readTree(Fixtures.resource("tokenizer/smollm2_chat.json").toFile());
    try (ModelFiles files = ModelFiles.open(Fixtures.smollm2Gguf());
        TextTokenizer tok = files.tokenizer()) {
      assertTrue(files.chatTemplate().orElseThrow().contains("<|im_start|>"));
      for (JsonNode c : cases) {
        List<ChatMessage> messages = new ArrayList<>();
        c.get("messages")
            .forEach(
                m ->
                    messages.add(
                        new ChatMessage(m.get("role").asText(), m.get("content").asText())));
        boolean gen = c.get("add_generation_prompt").asBoolean();
        String prompt = tok.applyChatTemplate(messages, gen);
        assertEquals(c.get("expected").asText(), prompt, c.toString());
        assertEquals(1, tok.encode(prompt, true)[0], "<|im_start|> is one special token");
      }
    }
  }

  @Test
  void tinyGgufVocabularyEqualsTransformersConversion() throws IOException {
    JsonNode cases =
        new ObjectMapper()
            .readTree(Fixtures.resource("tokenizer/tiny_llama_token_ids.json").toFile());
    try (ModelFiles files = ModelFiles.open(Fixtures.resource("io/tiny_llama.gguf"));
        TextTokenizer tok = files.tokenizer()) {
      for (JsonNode c : cases) {
        assertArrayEquals(
            ids(c.get("ids")), tok.encode(c.get("text").asText(), false), c.get("text").asText());
      }
    }
  }

  @Test
  void longTextIsNotTruncated() {
    try (ModelFiles files = ModelFiles.open(Fixtures.resource("io/tiny_llama.gguf"));
        TextTokenizer tok = files.tokenizer()) {
      String text = "the cat ".repeat(3000);
      long[] ids = tok.encode(text, false);
      assertTrue(ids.length > 6000, "got " + ids.length);
      assertEquals(text, tok.decode(ids));
    }
  }
}
