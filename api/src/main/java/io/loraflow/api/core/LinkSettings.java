package io.loraflow.api.core;

import jakarta.validation.constraints.NotNull;
import java.net.URI;

/**
 * The other servers of the stack: for the links printed next to a run and for the health checks.
 *
 * @param temporalUi Temporal web UI, e.g. {@code http://127.0.0.1:8233}
 * @param mlflow MLflow tracking server (UI and REST API), e.g. {@code http://127.0.0.1:5000}
 * @param s3Endpoint MinIO S3 API, e.g. {@code http://127.0.0.1:9000}; health: {@code
 *     /minio/health/live}
 * @param minioConsole MinIO web console, e.g. {@code http://127.0.0.1:9001}
 * @param bucket the bucket that holds datasets, checkpoints and adapters
 */
public record LinkSettings(
    @NotNull URI temporalUi,
    @NotNull URI mlflow,
    @NotNull URI s3Endpoint,
    @NotNull URI minioConsole,
    @NotNull String bucket) {

  public LinkSettings {
    for (URI uri : new URI[] {temporalUi, mlflow, s3Endpoint, minioConsole}) {
      if (uri != null
          && (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
              || uri.getHost() == null)) {
        throw new IllegalArgumentException("'" + uri + "' is not an http(s)://host:port URL");
      }
    }
  }

  /** The Temporal UI page of one workflow run. */
  public URI temporalRun(String namespace, String workflowId) {
    return join(temporalUi, "/namespaces/" + namespace + "/workflows/" + workflowId);
  }

  /** The MLflow UI page of one tracking run. */
  public URI mlflowRun(String experimentId, String mlflowRunId) {
    return join(mlflow, "/#/experiments/" + experimentId + "/runs/" + mlflowRunId);
  }

  /**
   * The MinIO console's object browser at a prefix: {@code /browser/<bucket>/<base64(prefix)>} (the
   * console's own URL form; the pipeline's run links use the same).
   */
  public URI minioPrefix(String prefix) {
    return join(
        minioConsole,
        "/browser/"
            + bucket
            + "/"
            + java.util.Base64.getEncoder()
                .encodeToString(prefix.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  private static URI join(URI base, String path) {
    String b = base.toString();
    return URI.create((b.endsWith("/") ? b.substring(0, b.length() - 1) : b) + path);
  }
}
