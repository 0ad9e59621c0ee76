package io.loraflow.infra;

import io.loraflow.activities.cpu.ArtifactStore;
import io.loraflow.activities.dataset.BlobReader;
import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One bucket of MinIO (or any S3 server) as a key/value store of blobs.
 *
 * <p>Objects written through {@link #put(String, byte[])} and {@link #put(String, Path)} carry
 * their SHA-256 as user metadata ({@code x-amz-meta-sha256}), so readers can verify content by a
 * stat instead of a download. Multi-file results are published with {@link PrefixPublisher}.
 */
public final class ObjectStore implements ArtifactStore, BlobReader, AutoCloseable {
  static final String SHA256_META = "sha256";
  private static final long PART_SIZE = 16L << 20; // 16 MiB multipart chunks for unknown sizes

  private final MinioClient client;
  private final String bucket;

  public ObjectStore(MinioClient client, String bucket) {
    this.client = client;
    this.bucket = bucket;
  }

  /** A store on the stack's MinIO and bucket (the bucket is created if missing). */
  public static ObjectStore connect(StackSettings settings) {
    MinioClient client =
        MinioClient.builder()
            .endpoint(settings.s3Endpoint().toString())
            .credentials(settings.s3AccessKey(), settings.s3SecretKey())
            .build();
    ObjectStore store = new ObjectStore(client, settings.bucket());
    store.ensureBucket();
    return store;
  }

  public String bucket() {
    return bucket;
  }

  /** {@code s3://<bucket>/<key>} */
  public String uri(String key) {
    return "s3://" + bucket + "/" + key;
  }

  /** The key of an {@code s3://<this bucket>/<key>} URI; other buckets are an error. */
  public String keyOf(String s3Uri) {
    String prefix = "s3://" + bucket + "/";
    if (!s3Uri.startsWith(prefix)) {
      throw new IllegalArgumentException(
          "'" + s3Uri + "' is not in this store's bucket; expected " + prefix + "<key>");
    }
    return s3Uri.substring(prefix.length());
  }

  public void ensureBucket() {
    call(
        "ensure bucket",
        "",
        () -> {
          if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
            try {
              client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
            } catch (ErrorResponseException e) {
              // another process created it between our two calls
              if (!isCode(e, "BucketAlreadyOwnedByYou", "BucketAlreadyExists")) {
                throw e;
              }
            }
          }
          return null;
        });
  }

  /** Writes (or replaces) {@code key}; the content's SHA-256 is stored with it. */
  public ObjectInfo put(String key, byte[] bytes) {
    return putBytes(key, bytes, false, contentType(key)).orElseThrow();
  }

  /** Writes (or replaces) {@code key} from a local file; the SHA-256 is stored with it. */
  public ObjectInfo put(String key, Path file) {
    return putFile(key, file, false, contentType(key)).orElseThrow();
  }

  /**
   * Writes {@code key} from a stream. {@code size} may be -1 when unknown (multipart upload). No
   * SHA-256 is recorded: use the byte or file variants where readers must verify.
   */
  public void put(String key, InputStream in, long size, String contentType) {
    call(
        "put",
        key,
        () ->
            client.putObject(
                PutObjectArgs.builder().bucket(bucket).object(key).stream(
                        in, size, size < 0 ? PART_SIZE : -1)
                    .contentType(contentType)
                    .build()));
  }

  /**
   * Writes {@code key} only if no object has that key yet (content-addressed objects are never
   * overwritten). Uses the server's conditional write ({@code If-None-Match: *}), so two racing
   * writers cannot both win.
   *
   * @return the new object, or empty if the key existed (the existing object is left untouched)
   */
  public Optional<ObjectInfo> putIfAbsent(String key, byte[] bytes) {
    if (exists(key)) {
      return Optional.empty();
    }
    return putBytes(key, bytes, true, contentType(key));
  }

  /** {@link #putIfAbsent(String, byte[])} for a local file. */
  public Optional<ObjectInfo> putIfAbsent(String key, Path file) {
    if (exists(key)) {
      return Optional.empty();
    }
    return putFile(key, file, true, contentType(key));
  }

  /** The whole object; use {@link #open} or {@link #download} for large ones. */
  public byte[] getBytes(String key) {
    return call(
        "get",
        key,
        () -> {
          try (InputStream in = client.getObject(args(key))) {
            return in.readAllBytes();
          }
        });
  }

  /** A stream of the object's content; the caller closes it. */
  public InputStream open(String key) {
    return call("open", key, () -> client.getObject(args(key)));
  }

  // ------------------------------------------------- the pipeline's seams (ArtifactStore,
  // BlobReader)

  /**
   * {@link ArtifactStore#get}: a stream of the object.
   *
   * @throws NoSuchFileException naming {@code s3://bucket/key} when there is no such object
   */
  @Override
  public InputStream get(String key) throws IOException {
    return read(bucket, key);
  }

  @Override
  public void put(String key, Path file, String contentType) {
    putFile(key, file, false, contentType);
  }

  @Override
  public void put(String key, byte[] bytes, String contentType) {
    putBytes(key, bytes, false, contentType);
  }

  /**
   * {@link BlobReader#read}: an object of any bucket this client's keys can read (dataset URIs
   * {@code s3://bucket/key}).
   *
   * @throws NoSuchFileException naming {@code s3://bucket/key} when the bucket or key is missing
   */
  @Override
  public InputStream read(String bucketName, String key) throws IOException {
    try {
      return client.getObject(GetObjectArgs.builder().bucket(bucketName).object(key).build());
    } catch (ErrorResponseException e) {
      if (isCode(e, "NoSuchKey", "NoSuchBucket", "NoSuchObject", "NotFound")) {
        NoSuchFileException missing =
            new NoSuchFileException(
                "s3://" + bucketName + "/" + key, null, e.errorResponse().code());
        missing.initCause(e);
        throw missing;
      }
      throw new IOException(
          "read s3://" + bucketName + "/" + key + " failed: " + e.getMessage(), e);
    } catch (IOException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("read s3://" + bucketName + "/" + key + " failed: " + e, e);
    }
  }

  /** Downloads {@code key} to {@code target} (written to a temp file, then moved into place). */
  public void download(String key, Path target) {
    call(
        "download",
        key,
        () -> {
          Path parent = target.toAbsolutePath().getParent();
          Files.createDirectories(parent);
          Path tmp = Files.createTempFile(parent, ".download-", ".part");
          try (InputStream in = client.getObject(args(key))) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
          } finally {
            Files.deleteIfExists(tmp);
          }
          return null;
        });
  }

  /** Metadata of {@code key}, or empty if there is no such object. */
  public Optional<ObjectInfo> stat(String key) {
    return call(
        "stat",
        key,
        () -> {
          try {
            StatObjectResponse stat =
                client.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build());
            return Optional.of(info(key, stat));
          } catch (ErrorResponseException e) {
            if (isCode(e, "NoSuchKey", "NoSuchObject", "NotFound")) {
              return Optional.empty();
            }
            throw e;
          }
        });
  }

  public boolean exists(String key) {
    return stat(key).isPresent();
  }

  /**
   * All objects under {@code prefix} (recursive), in key order. Only size and key are filled in
   * (listing does not return user metadata).
   */
  public List<ObjectInfo> list(String prefix) {
    return call(
        "list",
        prefix,
        () -> {
          List<ObjectInfo> out = new ArrayList<>();
          for (Result<Item> result :
              client.listObjects(
                  ListObjectsArgs.builder()
                      .bucket(bucket)
                      .prefix(prefix)
                      .recursive(true)
                      .build())) {
            Item item = result.get();
            if (!item.isDir()) {
              out.add(
                  new ObjectInfo(
                      item.objectName(),
                      item.size(),
                      Optional.empty(),
                      item.lastModified() == null ? null : item.lastModified().toInstant(),
                      Map.of()));
            }
          }
          return out;
        });
  }

  /** The "directories" directly under {@code prefix} (which should end with '/'). */
  public List<String> listChildPrefixes(String prefix) {
    return call(
        "list",
        prefix,
        () -> {
          List<String> out = new ArrayList<>();
          for (Result<Item> result :
              client.listObjects(
                  ListObjectsArgs.builder()
                      .bucket(bucket)
                      .prefix(prefix)
                      .delimiter("/")
                      .recursive(false)
                      .build())) {
            Item item = result.get();
            if (item.isDir()) {
              out.add(item.objectName());
            }
          }
          return out;
        });
  }

  /** Deletes {@code key}; deleting a missing key is not an error. */
  public void delete(String key) {
    call(
        "delete",
        key,
        () -> {
          client.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(key).build());
          return null;
        });
  }

  @Override
  public void close() {
    try {
      client.close();
    } catch (Exception e) {
      // nothing left to release
    }
  }

  // ---------------------------------------------------------------- internals

  private Optional<ObjectInfo> putBytes(
      String key, byte[] bytes, boolean onlyIfAbsent, String contentType) {
    String sha = Sha256.hex(bytes);
    return conditionalPut(
        key,
        onlyIfAbsent,
        () ->
            client.putObject(
                builder(key, sha, onlyIfAbsent, contentType).stream(
                        new ByteArrayInputStream(bytes), bytes.length, -1)
                    .build()),
        bytes.length,
        sha);
  }

  private Optional<ObjectInfo> putFile(
      String key, Path file, boolean onlyIfAbsent, String contentType) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("cannot upload " + file + " to " + uri(key) + ": no file");
    }
    String sha = Sha256.hex(file);
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return conditionalPut(
        key,
        onlyIfAbsent,
        () -> {
          try (InputStream in = Files.newInputStream(file)) {
            return client.putObject(
                builder(key, sha, onlyIfAbsent, contentType).stream(in, size, -1).build());
          }
        },
        size,
        sha);
  }

  private Optional<ObjectInfo> conditionalPut(
      String key, boolean onlyIfAbsent, Call<?> put, long size, String sha) {
    return call(
        "put",
        key,
        () -> {
          try {
            put.run();
          } catch (ErrorResponseException e) {
            if (onlyIfAbsent && isCode(e, "PreconditionFailed")) {
              return Optional.empty(); // someone else wrote it first; theirs stays
            }
            throw e;
          }
          return Optional.of(
              new ObjectInfo(key, size, Optional.of(sha), null, Map.of(SHA256_META, sha)));
        });
  }

  private PutObjectArgs.Builder builder(
      String key, String sha, boolean onlyIfAbsent, String contentType) {
    PutObjectArgs.Builder b =
        PutObjectArgs.builder()
            .bucket(bucket)
            .object(key)
            .contentType(contentType == null ? contentType(key) : contentType)
            .userMetadata(Map.of(SHA256_META, sha));
    if (onlyIfAbsent) {
      b.headers(Map.of("If-None-Match", "*"));
    }
    return b;
  }

  private static String contentType(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    if (k.endsWith(".json")) {
      return "application/json";
    } else if (k.endsWith(".jsonl")) {
      return "application/x-ndjson";
    } else if (k.endsWith(".html")) {
      return "text/html; charset=utf-8";
    } else if (k.endsWith(".png")) {
      return "image/png";
    } else if (k.endsWith(".txt") || k.endsWith(".csv") || k.endsWith(".yaml")) {
      return "text/plain; charset=utf-8";
    }
    return "application/octet-stream";
  }

  private GetObjectArgs args(String key) {
    return GetObjectArgs.builder().bucket(bucket).object(key).build();
  }

  private static ObjectInfo info(String key, StatObjectResponse stat) {
    Map<String, String> meta = new HashMap<>();
    stat.userMetadata().forEach((k, v) -> meta.put(k.toLowerCase(Locale.ROOT), v));
    return new ObjectInfo(
        key,
        stat.size(),
        Optional.ofNullable(meta.get(SHA256_META)),
        stat.lastModified() == null ? null : stat.lastModified().toInstant(),
        meta);
  }

  private static boolean isCode(ErrorResponseException e, String... codes) {
    String code = e.errorResponse() == null ? null : e.errorResponse().code();
    for (String c : codes) {
      if (c.equals(code)) {
        return true;
      }
    }
    return false;
  }

  @FunctionalInterface
  private interface Call<T> {
    T run() throws Exception;
  }

  private <T> T call(String what, String key, Call<T> call) {
    try {
      return call.run();
    } catch (ErrorResponseException e) {
      String code = e.errorResponse() == null ? "?" : e.errorResponse().code();
      throw new ObjectStoreException(
          what + " " + uri(key) + " failed: " + code + " (" + e.getMessage() + ")", e);
    } catch (IOException e) {
      throw new ObjectStoreException(
          what
              + " "
              + uri(key)
              + " failed: "
              + e
              + " (is MinIO running? "
              + StackSettings.HOW_TO_FIX
              + ")",
          e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new ObjectStoreException(what + " " + uri(key) + " failed: " + e, e);
    }
  }
}
