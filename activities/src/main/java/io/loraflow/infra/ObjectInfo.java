package io.loraflow.infra;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * What the store knows about one object without reading it.
 *
 * @param key object key inside the bucket
 * @param size bytes
 * @param sha256 lower-case hex SHA-256 of the content when it was written by {@link ObjectStore}
 *     (kept as user metadata), empty for objects written by others
 */
public record ObjectInfo(
    String key,
    long size,
    Optional<String> sha256,
    Instant lastModified,
    Map<String, String> meta) {
  public ObjectInfo {
    meta = Map.copyOf(meta);
  }
}
