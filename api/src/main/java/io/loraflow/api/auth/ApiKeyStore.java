package io.loraflow.api.auth;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * API keys in a JSON file of hashes ({@code [{"id","sha256","scope","createdAt"}]}): a key is shown
 * once when it is added and never stored. Written atomically (temp file + rename, mode 600), so a
 * crash never leaves a half-written file; re-read when its modification time changes, so keys added
 * or revoked by {@code loraflow keys} apply to a running server within a second.
 */
public final class ApiKeyStore {

  /** Keys look like {@code lfk_<id>_<43 chars of base64url>} (256 random bits). */
  public static final String PREFIX = "lfk_";

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path file;
  private final Clock clock;
  private volatile Map<String, ApiKey> byHash = Map.of();
  private volatile FileTime loadedAt;
  private volatile long checkedAtMillis;

  public ApiKeyStore(Path file, Clock clock) {
    this.file = file;
    this.clock = clock;
  }

  public Path file() {
    return file;
  }

  /** A key just added: the secret to hand to its user (shown once) and what was stored. */
  public record Added(String secret, ApiKey key) {}

  /**
   * Adds a key with a new random secret.
   *
   * @throws IllegalArgumentException when the id is taken or invalid
   */
  public synchronized Added add(String id, Scope scope) throws IOException {
    List<ApiKey> keys = new ArrayList<>(read());
    if (keys.stream().anyMatch(k -> k.id().equals(id))) {
      throw new IllegalArgumentException(
          "key id '" + id + "' exists in " + file + "; revoke it first or pick another id");
    }
    byte[] random = new byte[32];
    RANDOM.nextBytes(random);
    String secret =
        PREFIX + id + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    ApiKey key = new ApiKey(id, sha256(secret), scope, clock.instant().toString());
    keys.add(key);
    write(keys);
    return new Added(secret, key);
  }

  /** Removes the key {@code id}; false when there was none. */
  public synchronized boolean revoke(String id) throws IOException {
    List<ApiKey> keys = new ArrayList<>(read());
    boolean removed = keys.removeIf(k -> k.id().equals(id));
    if (removed) {
      write(keys);
    }
    return removed;
  }

  /** The stored keys (hashes, never secrets), in the order added. */
  public List<ApiKey> list() throws IOException {
    return read();
  }

  /**
   * The key whose hash matches {@code secret}, reloading the file when it changed (checked at most
   * once a second). A missing file means no keys.
   */
  public Optional<ApiKey> find(String secret) {
    refresh();
    ApiKey k = byHash.get(sha256(secret));
    return Optional.ofNullable(k);
  }

  private void refresh() {
    long now = clock.millis();
    if (loadedAt != null && now - checkedAtMillis < 1000) {
      return;
    }
    checkedAtMillis = now;
    try {
      FileTime modified =
          Files.exists(file) ? Files.getLastModifiedTime(file) : FileTime.fromMillis(0);
      if (modified.equals(loadedAt)) {
        return;
      }
      Map<String, ApiKey> next = new ConcurrentHashMap<>();
      for (ApiKey k : read()) {
        next.put(k.sha256(), k);
      }
      byHash = next;
      loadedAt = modified;
    } catch (IOException | RuntimeException e) {
      // keep the keys loaded before: a bad edit of the file must not open or close the API
      org.slf4j.LoggerFactory.getLogger(ApiKeyStore.class)
          .error(
              "cannot read API key file {} ({}); keeping the keys read before",
              file,
              e.getMessage());
    }
  }

  private List<ApiKey> read() throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return List.of();
    }
    if (bytes.length == 0) {
      return List.of();
    }
    try {
      return JSON.readValue(bytes, new TypeReference<List<ApiKey>>() {});
    } catch (IOException e) {
      throw new IOException(
          "API key file " + file + " is not a JSON list of {id, sha256, scope, createdAt}", e);
    }
  }

  private void write(List<ApiKey> keys) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, ".api-keys-", ".tmp");
    try {
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException notPosix) {
        // best effort on non-POSIX file systems
      }
      Files.write(tmp, JSON.writeValueAsString(keys).getBytes(StandardCharsets.UTF_8));
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
    checkedAtMillis = 0; // the next lookup re-reads
  }

  /** Lowercase hex SHA-256 of the UTF-8 bytes. */
  public static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JRE", e);
    }
  }
}
