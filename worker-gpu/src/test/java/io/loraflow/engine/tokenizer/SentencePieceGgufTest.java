package io.loraflow.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.engine.io.Fixtures;
import io.loraflow.engine.io.GgufFile;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A "llama" (sentencepiece BPE) GGUF vocabulary against sentencepiece's own ids. */
class SentencePieceGgufTest {

  @TempDir Path tmp;

  @Test
  void idsEqualSentencepiece() throws IOException {
    JsonNode cases =
        new ObjectMapper()
            .readTree(Fixtures.resource("tokenizer/tiny_spm_token_ids.json").toFile());
    Path json;
    try (GgufFile gguf = GgufFile.open(Fixtures.resource("io/tiny_spm.gguf"))) {
      json = new GgufTokenizerConverter().convert(gguf, tmp);
    }
    try (TextTokenizer tok = TextTokenizer.open(json)) {
      int n = 0;
      for (JsonNode c : cases) {
        String text = c.get("text").asText();
        long[] want = new long[c.get("ids").size()];
        for (int i = 0; i < want.length; i++) {
          want[i] = c.get("ids").get(i).asLong();
        }
        assertArrayEquals(want, tok.encode(text, false), "ids of " + c.get("text"));
        long[] withBos = tok.encode(text, true);
        assertEquals(1, withBos[0], "BOS first: " + c.get("text"));
        assertEquals(c.get("decoded").asText(), tok.decode(want, true), "decode " + c.get("text"));
        n++;
      }
      assertEquals(12, n);
      assertEquals(java.util.List.of(2), tok.eosTokenIds());
    }
  }
}
