package io.loraflow.engine.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the tokenized JSONL of CONTRACTS.md: one {@code {"input_ids":[...], "labels":[...]}} per
 * line. Examples longer than maxSeqLen are truncated; examples with no target token left are
 * dropped (counted). An empty result is an error that names the file.
 *
 * @param examples usable examples, in file order
 * @param truncated how many were cut to maxSeqLen
 * @param dropped how many had no answer token (after truncation)
 */
public record TokenizedDataset(List<Example> examples, int truncated, int dropped) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public static TokenizedDataset read(Path jsonl, int maxSeqLen) throws IOException {
    if (!Files.isRegularFile(jsonl)) {
      throw new IllegalArgumentException("training data " + jsonl + " does not exist");
    }
    List<Example> out = new ArrayList<>();
    int truncated = 0;
    int dropped = 0;
    int lineNo = 0;
    try (BufferedReader r = Files.newBufferedReader(jsonl, StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        Example e;
        try {
          JsonNode o = JSON.readTree(line);
          if (o == null || !o.isObject()) {
            throw new IllegalArgumentException("a line must be a JSON object");
          }
          e = new Example(longs(o, "input_ids"), longs(o, "labels"));
        } catch (JsonProcessingException | RuntimeException ex) {
          throw new IllegalArgumentException(
              jsonl
                  + " line "
                  + lineNo
                  + ": not a tokenized example {input_ids, labels}: "
                  + ex.getMessage(),
              ex);
        }
        if (e.length() > maxSeqLen) {
          e = e.truncate(maxSeqLen);
          truncated++;
        }
        if (e.targetTokens() == 0) {
          dropped++;
          continue;
        }
        out.add(e);
      }
    }
    return of(out, truncated, dropped, jsonl.toString());
  }

  /** Validates an in-memory list the same way. */
  public static TokenizedDataset of(
      List<Example> examples, int truncated, int dropped, String source) {
    if (examples.isEmpty()) {
      throw new IllegalArgumentException(
          "training data "
              + source
              + " has no usable example ("
              + dropped
              + " without answer tokens); it needs at least one line with labels"
              + " other than -100");
    }
    return new TokenizedDataset(List.copyOf(examples), truncated, dropped);
  }

  /** The whole-number array {@code field} of {@code o}. */
  private static long[] longs(JsonNode o, String field) {
    JsonNode a = o.get(field);
    if (a == null || !a.isArray()) {
      throw new IllegalArgumentException("\"" + field + "\" must be an array of token ids");
    }
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode v = a.get(i);
      if (!v.isIntegralNumber() || !v.canConvertToLong()) {
        throw new IllegalArgumentException(
            "\"" + field + "\"[" + i + "] is " + v + ", not a whole number");
      }
      out[i] = v.asLong();
    }
    return out;
  }
}
