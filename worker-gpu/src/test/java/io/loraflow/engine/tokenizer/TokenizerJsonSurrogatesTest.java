package io.loraflow.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.Version;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tokenizer.json that writes non-BMP characters as escaped surrogate pairs, as Python's {@code
 * json.dump} does ({@code "\ud83d\ude00"} for U+1F600): jackson-core before 2.21.2 rejects them
 * (jackson-core #1541), so the build pins a fixed version ({@code jackson.version} in the parent
 * pom) and this test loads such a file end to end (our reader and DJL's tokenizer).
 */
class TokenizerJsonSurrogatesTest {
  @TempDir Path dir;

  static final String GRIN = new String(Character.toChars(0x1F600));

  @Test
  void escapedSurrogatePairsLoad() throws Exception {
    String json =
        """
        {"version": "1.0", "truncation": null, "padding": null,
         "added_tokens": [{"id": 3, "content": "\\ud83d\\ude00", "single_word": false,
           "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
         "normalizer": null, "pre_tokenizer": {"type": "Whitespace"},
         "post_processor": null, "decoder": null,
         "model": {"type": "WordLevel",
           "vocab": {"[UNK]": 0, "hello": 1, "caf\\u00e9": 2, "\\ud83d\\ude00": 3},
           "unk_token": "[UNK]"}}
        """;
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, json, StandardCharsets.US_ASCII); // pure ASCII, as json.dump writes
    try (TextTokenizer tok = TextTokenizer.open(file)) {
      assertEquals(Optional.of(3), tok.specialTokenId(GRIN));
      assertArrayEquals(new long[] {1, 3}, tok.encode("hello " + GRIN, false));
    }
    Version v = com.fasterxml.jackson.core.json.PackageVersion.VERSION;
    assertTrue(
        v.compareTo(new Version(2, 21, 2, null, "com.fasterxml.jackson.core", "jackson-core")) >= 0,
        "jackson-core " + v + " has #1541; pin >= 2.21.2");
  }
}
