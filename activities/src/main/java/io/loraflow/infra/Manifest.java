package io.loraflow.infra;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.loraflow.workflows.StorageKeys;
import java.util.List;
import java.util.Map;

/**
 * The last file written under a published prefix: it lists every file of the prefix with size and
 * SHA-256. A prefix without a manifest, or whose files do not match it, is incomplete and must not
 * be used (see {@link PrefixPublisher}).
 *
 * @param createdAt ISO-8601 instant of the publish
 * @param files paths relative to the prefix, sorted
 * @param meta free-form facts about the content (e.g. {@code step} for a checkpoint)
 * @param localManifest the published directory's own {@value #FILE_NAME} (e.g. the engine's
 *     checkpoint manifest), carried inside this one because both have the same name; null if none
 */
public record Manifest(
    int version,
    String createdAt,
    List<Entry> files,
    Map<String, String> meta,
    String localManifest) {
  public static final String FILE_NAME = StorageKeys.MANIFEST;
  static final int CURRENT_VERSION = 1;
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** One file: path relative to the prefix, bytes, lower-case hex SHA-256. */
  public record Entry(String path, long size, String sha256) {}

  public Manifest {
    files = List.copyOf(files);
    meta = Map.copyOf(meta == null ? Map.of() : meta);
  }

  public long totalBytes() {
    return files.stream().mapToLong(Entry::size).sum();
  }

  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize manifest", e);
    }
  }

  public static Manifest fromJson(byte[] json, String where) {
    try {
      Manifest m = JSON.readValue(json, Manifest.class);
      if (m.version() != CURRENT_VERSION) {
        throw new IllegalArgumentException(
            where + ": unsupported manifest version " + m.version() + " (expected 1)");
      }
      return m;
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(where + ": unreadable manifest: " + e.getMessage(), e);
    }
  }
}
