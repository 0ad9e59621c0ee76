package io.loraflow.activities.cpu;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * Base URLs for the links in a run's result; a null base leaves that link out.
 *
 * @param temporalUi e.g. http://localhost:8233
 * @param namespace Temporal namespace (default "default")
 * @param mlflow e.g. http://localhost:5000
 * @param minioConsole e.g. http://localhost:9001
 * @param bucket the artifact bucket (default "loraflow")
 */
public record LinkConfig(
    String temporalUi, String namespace, String mlflow, String minioConsole, String bucket) {

  public LinkConfig {
    temporalUi = trim(temporalUi);
    mlflow = trim(mlflow);
    minioConsole = trim(minioConsole);
    namespace = namespace == null || namespace.isBlank() ? "default" : namespace;
    bucket = bucket == null || bucket.isBlank() ? "loraflow" : bucket;
  }

  /**
   * From LORAFLOW_TEMPORAL_UI_URL, TEMPORAL_NAMESPACE, LORAFLOW_MLFLOW_UI_URL (else
   * MLFLOW_TRACKING_URI), LORAFLOW_MINIO_CONSOLE_URL and LORAFLOW_BUCKET.
   */
  public static LinkConfig fromEnv(Map<String, String> env) {
    return new LinkConfig(
        env.get("LORAFLOW_TEMPORAL_UI_URL"),
        env.get("TEMPORAL_NAMESPACE"),
        env.getOrDefault("LORAFLOW_MLFLOW_UI_URL", env.get("MLFLOW_TRACKING_URI")),
        env.get("LORAFLOW_MINIO_CONSOLE_URL"),
        env.get("LORAFLOW_BUCKET"));
  }

  /** {@code <ui>/namespaces/<ns>/workflows/<workflowId>/<runId>/history}. */
  public String workflowUrl(String workflowId, String workflowRunId) {
    if (temporalUi == null) {
      return null;
    }
    return temporalUi
        + "/namespaces/"
        + enc(namespace)
        + "/workflows/"
        + enc(workflowId)
        + (workflowRunId == null ? "" : "/" + enc(workflowRunId) + "/history");
  }

  /** {@code <mlflow>/#/experiments/<experimentId>/runs/<runId>}. */
  public String mlflowRunUrl(String experimentId, String mlflowRunId) {
    if (mlflow == null || mlflowRunId == null || experimentId == null) {
      return null;
    }
    return mlflow + "/#/experiments/" + enc(experimentId) + "/runs/" + enc(mlflowRunId);
  }

  /**
   * The console's object browser at a prefix: {@code <console>/browser/<bucket>/<base64(prefix)>}.
   */
  public String consoleUrl(String prefix) {
    if (minioConsole == null) {
      return null;
    }
    return minioConsole
        + "/browser/"
        + enc(bucket)
        + "/"
        + Base64.getEncoder().encodeToString(prefix.getBytes(StandardCharsets.UTF_8));
  }

  private static String trim(String url) {
    return url == null || url.isBlank() ? null : url.replaceAll("/+$", "");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
