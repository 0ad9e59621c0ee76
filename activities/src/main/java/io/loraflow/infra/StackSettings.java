package io.loraflow.infra;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the three servers of the stack live: Temporal (gRPC target + namespace), MinIO (S3
 * endpoint, keys, bucket) and MLflow (tracking URI).
 *
 * <p>Read from {@code LORAFLOW_*} environment variables; every variable that is not set falls back
 * to {@code <state dir>/stack.env} (read by {@link StackEnvFile}, the one reader), which {@code
 * ./loraflow stack up} writes.
 */
public record StackSettings(
    String temporalTarget,
    String temporalNamespace,
    URI s3Endpoint,
    String s3AccessKey,
    String s3SecretKey,
    String bucket,
    URI mlflowUri,
    URI temporalUi,
    URI minioConsole) {

  public static final String TEMPORAL_TARGET = "LORAFLOW_TEMPORAL_TARGET";
  public static final String TEMPORAL_NAMESPACE = "LORAFLOW_TEMPORAL_NAMESPACE";
  public static final String S3_ENDPOINT = "LORAFLOW_S3_ENDPOINT";
  public static final String S3_ACCESS_KEY = "LORAFLOW_S3_ACCESS_KEY";
  public static final String S3_SECRET_KEY = "LORAFLOW_S3_SECRET_KEY";
  public static final String BUCKET = "LORAFLOW_BUCKET";
  public static final String MLFLOW_URI = "LORAFLOW_MLFLOW_URI";
  public static final String STATE_DIR = "LORAFLOW_STATE_DIR";
  public static final String TEMPORAL_UI = "LORAFLOW_TEMPORAL_UI";
  public static final String MINIO_CONSOLE = "LORAFLOW_MINIO_CONSOLE";

  static final String HOW_TO_FIX =
      "run ./loraflow stack up (it writes .state/stack.env), or set the LORAFLOW_* variables";

  public StackSettings {
    temporalTarget = required(TEMPORAL_TARGET, temporalTarget);
    requireHostPort(TEMPORAL_TARGET, temporalTarget);
    temporalNamespace = required(TEMPORAL_NAMESPACE, temporalNamespace);
    requireHttpUri(S3_ENDPOINT, s3Endpoint);
    s3AccessKey = required(S3_ACCESS_KEY, s3AccessKey);
    s3SecretKey = required(S3_SECRET_KEY, s3SecretKey);
    bucket = required(BUCKET, bucket);
    if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      throw new IllegalArgumentException(
          BUCKET + "='" + bucket + "' is not a valid S3 bucket name (3-63 of a-z 0-9 . -)");
    }
    requireHttpUri(MLFLOW_URI, mlflowUri);
    if (temporalUi != null) {
      requireHttpUri(TEMPORAL_UI, temporalUi);
    }
    if (minioConsole != null) {
      requireHttpUri(MINIO_CONSOLE, minioConsole);
    }
  }

  /** The four required servers' settings, without UI links. */
  public StackSettings(
      String temporalTarget,
      String temporalNamespace,
      URI s3Endpoint,
      String s3AccessKey,
      String s3SecretKey,
      String bucket,
      URI mlflowUri) {
    this(
        temporalTarget,
        temporalNamespace,
        s3Endpoint,
        s3AccessKey,
        s3SecretKey,
        bucket,
        mlflowUri,
        null,
        null);
  }

  /** Settings of this process: environment first, then the state dir's stack.env. */
  public static StackSettings load() {
    return load(System.getenv());
  }

  /** Settings from {@code env}, each missing key taken from {@code <state dir>/stack.env}. */
  public static StackSettings load(Map<String, String> env) {
    Path stackEnv = StackEnvFile.path(env);
    Map<String, String> merged = new HashMap<>(StackEnvFile.readIfPresent(stackEnv));
    env.forEach(
        (key, value) -> {
          if (key.startsWith("LORAFLOW_") && !value.isBlank()) {
            merged.put(key, value);
          }
        });
    List<String> missing = new ArrayList<>();
    for (String key :
        List.of(TEMPORAL_TARGET, S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, MLFLOW_URI)) {
      if (!merged.containsKey(key)) {
        missing.add(key);
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          "no stack settings: "
              + String.join(", ", missing)
              + " not set and not in "
              + stackEnv.toAbsolutePath()
              + (Files.isRegularFile(stackEnv) ? "" : " (file missing)")
              + "; "
              + HOW_TO_FIX);
    }
    return new StackSettings(
        merged.get(TEMPORAL_TARGET),
        merged.getOrDefault(TEMPORAL_NAMESPACE, "default"),
        parseUri(S3_ENDPOINT, merged.get(S3_ENDPOINT)),
        merged.get(S3_ACCESS_KEY),
        merged.get(S3_SECRET_KEY),
        merged.getOrDefault(BUCKET, "loraflow"),
        parseUri(MLFLOW_URI, merged.get(MLFLOW_URI)),
        merged.containsKey(TEMPORAL_UI) ? parseUri(TEMPORAL_UI, merged.get(TEMPORAL_UI)) : null,
        merged.containsKey(MINIO_CONSOLE)
            ? parseUri(MINIO_CONSOLE, merged.get(MINIO_CONSOLE))
            : null);
  }

  /** The three servers of the stack. */
  public enum Server {
    TEMPORAL,
    MINIO,
    MLFLOW
  }

  /**
   * Opens a TCP connection to each named server (all three when none is named); throws one error
   * that names every server that did not answer and how to start them.
   */
  public StackSettings requireReachable(Duration timeout, Server... servers) {
    java.util.Set<Server> wanted =
        servers.length == 0
            ? java.util.EnumSet.allOf(Server.class)
            : java.util.EnumSet.copyOf(List.of(servers));
    List<String> down = new ArrayList<>();
    if (wanted.contains(Server.TEMPORAL)) {
      int colon = temporalTarget.lastIndexOf(':');
      check(
          down,
          "Temporal",
          temporalTarget.substring(0, colon),
          Integer.parseInt(temporalTarget.substring(colon + 1)),
          timeout);
    }
    if (wanted.contains(Server.MINIO)) {
      check(down, "MinIO", s3Endpoint.getHost(), port(s3Endpoint), timeout);
    }
    if (wanted.contains(Server.MLFLOW)) {
      check(down, "MLflow", mlflowUri.getHost(), port(mlflowUri), timeout);
    }
    if (!down.isEmpty()) {
      throw new IllegalStateException(
          "stack not reachable: " + String.join("; ", down) + "; " + HOW_TO_FIX);
    }
    return this;
  }

  /** An S3 URI for a key in this stack's bucket: {@code s3://<bucket>/<key>}. */
  public String s3Uri(String key) {
    return "s3://" + bucket + "/" + key;
  }

  @Override
  public String toString() {
    // never print the secret key
    return "StackSettings[temporal="
        + temporalTarget
        + "/"
        + temporalNamespace
        + ", s3="
        + s3Endpoint
        + "/"
        + bucket
        + ", mlflow="
        + mlflowUri
        + "]";
  }

  private static void check(
      List<String> down, String name, String host, int port, Duration timeout) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
    } catch (IOException e) {
      down.add(name + " at " + host + ":" + port + " (" + e.getMessage() + ")");
    }
  }

  private static int port(URI uri) {
    if (uri.getPort() > 0) {
      return uri.getPort();
    }
    return "https".equals(uri.getScheme()) ? 443 : 80;
  }

  private static URI parseUri(String key, String value) {
    try {
      return URI.create(value.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + "='" + value + "' is not a URI; " + HOW_TO_FIX, e);
    }
  }

  private static String required(String key, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(key + " is empty; " + HOW_TO_FIX);
    }
    return value.strip();
  }

  private static void requireHostPort(String key, String value) {
    if (!value.matches("[A-Za-z0-9.\\-\\[\\]:]+:\\d{1,5}")) {
      throw new IllegalArgumentException(
          key + "='" + value + "' is not host:port (e.g. 127.0.0.1:7233)");
    }
  }

  private static void requireHttpUri(String key, URI uri) {
    if (uri == null
        || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
        || uri.getHost() == null) {
      throw new IllegalArgumentException(
          key + "='" + uri + "' is not an http(s)://host:port URI; " + HOW_TO_FIX);
    }
  }
}
