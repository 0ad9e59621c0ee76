package io.loraflow.activities.dataset;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.workflows.DatasetStats;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * fetch → strict UTF-8 → parse → validate → normalize to question/answer JSONL → sha256. Pure (no
 * storage); the activity stores the result under {@code datasets/<sha256>/}. Normalized text
 * (trimmed fields, LF line ends) makes the hash independent of the source format: the same pairs as
 * CSV or nested JSON hash the same.
 */
public final class DatasetPreparer {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final DatasetFetcher fetcher;
  private final DatasetParser parser;
  private final DatasetValidator validator;
  private final int maxErrors;

  public DatasetPreparer(DatasetConfig config, BlobReader blobs) {
    this(config, blobs, AddressPolicy.fromEnv(System.getenv()));
  }

  /** With the hosts http(s) datasets may be fetched from. */
  public DatasetPreparer(DatasetConfig config, BlobReader blobs, AddressPolicy addresses) {
    this(
        new DatasetFetcher(config, blobs, addresses),
        new DatasetParser(config.maxErrors()),
        new DatasetValidator(config.maxFieldChars(), config.maxErrors()),
        config.maxErrors());
  }

  public DatasetPreparer(
      DatasetFetcher fetcher, DatasetParser parser, DatasetValidator validator, int maxErrors) {
    this.maxErrors = maxErrors;
    this.fetcher = fetcher;
    this.parser = parser;
    this.validator = validator;
  }

  /**
   * @param uri dataset URI
   * @param format "auto" or an explicit format
   */
  public PreparedDataset prepare(String uri, String format) {
    FetchedDataset fetched = fetcher.fetch(uri);
    return prepare(fetched, format);
  }

  /** The steps after fetching (also for bytes that are already here). */
  public PreparedDataset prepare(FetchedDataset fetched, String format) {
    String text = Utf8Text.decode(fetched.bytes(), fetched.uri());
    Problems problems = new Problems(fetched.uri(), maxErrors);
    ParsedDataset parsed = parser.parse(text, format, fetched.name(), fetched.uri(), problems);
    DatasetValidator.Result valid = validator.validate(parsed.pairs(), fetched.uri(), problems);
    problems.throwIfAny();
    byte[] jsonl = toJsonl(valid.pairs());
    List<QaPair> pairs = valid.pairs();
    DatasetStats stats =
        new DatasetStats(
            fetched.uri(),
            parsed.format(),
            fetched.bytes().length,
            pairs.size(),
            valid.duplicatesRemoved(),
            pairs.stream().mapToInt(p -> p.question().length()).average().orElse(0),
            pairs.stream().mapToInt(p -> p.answer().length()).average().orElse(0),
            pairs.stream().mapToInt(p -> p.answer().length()).max().orElse(0));
    return new PreparedDataset(sha256(jsonl), jsonl, pairs, stats);
  }

  /** One {"question","answer"} object per line, keys in that order, UTF-8, LF. */
  public static byte[] toJsonl(List<QaPair> pairs) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (QaPair p : pairs) {
      Map<String, String> line = new LinkedHashMap<>();
      line.put("question", p.question());
      line.put("answer", p.answer());
      try {
        out.writeBytes(JSON.writeValueAsBytes(line));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("cannot write a JSONL line", e);
      }
      out.write('\n');
    }
    return out.toByteArray();
  }

  /** Reads normalized JSONL (as written by {@link #toJsonl}) back into pairs. */
  public static List<QaPair> fromJsonl(byte[] jsonl) {
    String text = new String(jsonl, StandardCharsets.UTF_8);
    List<QaPair> pairs = new java.util.ArrayList<>();
    int line = 0;
    for (String l : text.split("\n")) {
      line++;
      if (l.isBlank()) {
        continue;
      }
      try {
        var node = JSON.readTree(l);
        pairs.add(
            new QaPair(node.path("question").asText(), node.path("answer").asText(), line, line));
      } catch (JsonProcessingException e) {
        throw DatasetException.invalid("normalized dataset line " + line + " is not JSON: " + e);
      }
    }
    return pairs;
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JRE", e);
    }
  }
}
