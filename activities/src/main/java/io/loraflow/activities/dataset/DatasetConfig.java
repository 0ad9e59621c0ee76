package io.loraflow.activities.dataset;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Limits and sources of dataset preparation (one per CPU worker).
 *
 * @param allowedRoots directories {@code file:} URIs may point into (after resolving symlinks and
 *     ".."); empty = no {@code file:} datasets at all
 * @param maxBytes largest dataset fetched, in bytes (default 256 MiB)
 * @param maxFieldChars longest question or answer, in characters (default 65,536)
 * @param maxErrors record problems listed in one failure message before "... and N more"
 * @param connectTimeout http(s) connect timeout
 * @param requestTimeout http(s) whole-request timeout
 * @param hfEndpoint Hugging Face hub endpoint (default https://huggingface.co; a mirror or a test
 *     server with the same layout works)
 * @param hfToken optional hub token sent as "Authorization: Bearer"; null for public datasets
 */
public record DatasetConfig(
    List<Path> allowedRoots,
    long maxBytes,
    int maxFieldChars,
    int maxErrors,
    Duration connectTimeout,
    Duration requestTimeout,
    URI hfEndpoint,
    String hfToken) {

  public static final long DEFAULT_MAX_BYTES = 256L << 20;
  public static final int DEFAULT_MAX_FIELD_CHARS = 65_536;

  public DatasetConfig {
    allowedRoots = List.copyOf(allowedRoots);
    if (maxBytes <= 0 || maxFieldChars <= 0 || maxErrors <= 0) {
      throw new IllegalArgumentException(
          "dataset limits must be positive: maxBytes="
              + maxBytes
              + ", maxFieldChars="
              + maxFieldChars
              + ", maxErrors="
              + maxErrors);
    }
    if (hfEndpoint == null || hfEndpoint.getScheme() == null) {
      throw new IllegalArgumentException("hfEndpoint must be an absolute URL, got " + hfEndpoint);
    }
  }

  /** Defaults with the given allowed roots. */
  public static DatasetConfig defaults(List<Path> allowedRoots) {
    return new DatasetConfig(
        allowedRoots,
        DEFAULT_MAX_BYTES,
        DEFAULT_MAX_FIELD_CHARS,
        20,
        Duration.ofSeconds(10),
        Duration.ofMinutes(5),
        URI.create("https://huggingface.co"),
        null);
  }

  /**
   * From the environment: LORAFLOW_DATASET_ROOTS (paths separated by ':'),
   * LORAFLOW_DATASET_MAX_BYTES, LORAFLOW_DATASET_MAX_FIELD_CHARS, HF_ENDPOINT, HF_TOKEN.
   */
  public static DatasetConfig fromEnv(java.util.Map<String, String> env) {
    List<Path> roots = new ArrayList<>();
    for (String r : env.getOrDefault("LORAFLOW_DATASET_ROOTS", "").split(":")) {
      if (!r.isBlank()) {
        roots.add(Path.of(r.trim()));
      }
    }
    DatasetConfig d = defaults(roots);
    return new DatasetConfig(
        roots,
        Long.parseLong(env.getOrDefault("LORAFLOW_DATASET_MAX_BYTES", "" + d.maxBytes())),
        Integer.parseInt(
            env.getOrDefault("LORAFLOW_DATASET_MAX_FIELD_CHARS", "" + d.maxFieldChars())),
        d.maxErrors(),
        d.connectTimeout(),
        d.requestTimeout(),
        URI.create(env.getOrDefault("HF_ENDPOINT", d.hfEndpoint().toString())),
        env.get("HF_TOKEN"));
  }

  public DatasetConfig withHfEndpoint(URI endpoint) {
    return new DatasetConfig(
        allowedRoots,
        maxBytes,
        maxFieldChars,
        maxErrors,
        connectTimeout,
        requestTimeout,
        endpoint,
        hfToken);
  }

  public DatasetConfig withLimits(long maxBytes, int maxFieldChars) {
    return new DatasetConfig(
        allowedRoots,
        maxBytes,
        maxFieldChars,
        maxErrors,
        connectTimeout,
        requestTimeout,
        hfEndpoint,
        hfToken);
  }
}
