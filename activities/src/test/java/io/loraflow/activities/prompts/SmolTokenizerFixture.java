package io.loraflow.activities.prompts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * SmolLM2-135M-Instruct's tokenizer.json and reference encodings by HF transformers
 * (src/test/python/make_tokenizer_fixture.py).
 */
public final class SmolTokenizerFixture {
  private SmolTokenizerFixture() {}

  /** Unpacks the gzipped tokenizer.json into {@code dir}. */
  public static Path tokenizerJson(Path dir) {
    Path out = dir.resolve("tokenizer.json");
    try (InputStream in =
        new GZIPInputStream(
            SmolTokenizerFixture.class.getResourceAsStream(
                "/fixtures/smollm2-tokenizer.json.gz"))) {
      Files.copy(in, out);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static JsonNode reference() {
    try (InputStream in =
        SmolTokenizerFixture.class.getResourceAsStream("/fixtures/tokenizer-reference.json")) {
      return new ObjectMapper().readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static long[] longs(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }
}
