package io.loraflow.infra.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The parts of MLflow's REST API that the Java client does not cover without shelling out to
 * Python: the model registry (aliases, tags, search) and the artifact proxy ({@code
 * /api/2.0/mlflow-artifacts}).
 */
public final class MlflowRest {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final URI base;
  private final HttpClient http;

  public MlflowRest(URI trackingUri) {
    String s = trackingUri.toString();
    this.base = URI.create(s.endsWith("/") ? s : s + "/");
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  public URI base() {
    return base;
  }

  public static ObjectNode object() {
    return JSON.createObjectNode();
  }

  /** GET {@code api/2.0/mlflow/<path>?<query>} */
  public JsonNode get(String path, Map<String, String> query) {
    return send(
        HttpRequest.newBuilder(uri("api/2.0/mlflow/" + path, query)).GET(), "GET " + path, null);
  }

  /** POST {@code api/2.0/mlflow/<path>} with a JSON body. */
  public JsonNode post(String path, JsonNode body) {
    return send(
        HttpRequest.newBuilder(uri("api/2.0/mlflow/" + path, Map.of()))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString())),
        "POST " + path,
        body);
  }

  /** PATCH {@code api/2.0/mlflow/<path>} with a JSON body. */
  public JsonNode patch(String path, JsonNode body) {
    return send(
        HttpRequest.newBuilder(uri("api/2.0/mlflow/" + path, Map.of()))
            .header("Content-Type", "application/json")
            .method("PATCH", HttpRequest.BodyPublishers.ofString(body.toString())),
        "PATCH " + path,
        body);
  }

  /** DELETE {@code api/2.0/mlflow/<path>?<query>} */
  public JsonNode delete(String path, Map<String, String> query) {
    return send(
        HttpRequest.newBuilder(uri("api/2.0/mlflow/" + path, query)).DELETE(),
        "DELETE " + path,
        null);
  }

  /**
   * Uploads one artifact through the tracking server's artifact proxy: PUT {@code
   * api/2.0/mlflow-artifacts/artifacts/<path>}, where {@code path} is the part of an {@code
   * mlflow-artifacts:/} URI after the scheme.
   */
  public void putArtifact(String path, byte[] content) {
    send(
        HttpRequest.newBuilder(
                uri("api/2.0/mlflow-artifacts/artifacts/" + encodePath(path), Map.of()))
            .header("Content-Type", "application/octet-stream")
            .PUT(HttpRequest.BodyPublishers.ofByteArray(content)),
        "PUT artifact " + path,
        null);
  }

  /** {@link #putArtifact(String, byte[])} streaming a local file. */
  public void putArtifact(String path, Path file) {
    try {
      send(
          HttpRequest.newBuilder(
                  uri("api/2.0/mlflow-artifacts/artifacts/" + encodePath(path), Map.of()))
              .header("Content-Type", "application/octet-stream")
              .PUT(HttpRequest.BodyPublishers.ofFile(file)),
          "PUT artifact " + path,
          null);
    } catch (java.io.FileNotFoundException e) {
      throw new IllegalArgumentException("artifact file " + file + " does not exist", e);
    }
  }

  /**
   * The content of a run's artifact as the MLflow UI downloads it ({@code get-artifact}), whatever
   * the artifact root's scheme.
   */
  public byte[] getRunArtifact(String runId, String path) {
    HttpRequest request =
        HttpRequest.newBuilder(uri("get-artifact", Map.of("path", path, "run_uuid", runId)))
            .timeout(TIMEOUT)
            .GET()
            .build();
    try {
      HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
      if (response.statusCode() / 100 != 2) {
        throw new MlflowRestException(
            "MLflow get-artifact "
                + path
                + " of run "
                + runId
                + " failed: HTTP "
                + response.statusCode()
                + " "
                + new String(response.body(), StandardCharsets.UTF_8),
            response.statusCode(),
            "");
      }
      return response.body();
    } catch (IOException e) {
      throw new IllegalStateException("MLflow at " + base + " did not answer get-artifact", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during MLflow get-artifact", e);
    }
  }

  private URI uri(String path, Map<String, String> query) {
    StringJoiner q = new StringJoiner("&", "?", "").setEmptyValue("");
    query.forEach(
        (k, v) ->
            q.add(
                URLEncoder.encode(k, StandardCharsets.UTF_8)
                    + "="
                    + URLEncoder.encode(v, StandardCharsets.UTF_8)));
    return base.resolve(path + q);
  }

  private static String encodePath(String path) {
    StringJoiner out = new StringJoiner("/");
    for (String segment : path.split("/", -1)) {
      out.add(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
    }
    return out.toString();
  }

  private JsonNode send(HttpRequest.Builder request, String what, JsonNode body) {
    HttpResponse<String> response;
    try {
      response = http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(
          "MLflow at "
              + base
              + " did not answer "
              + what
              + ": "
              + e
              + " ("
              + "is it running? run ./loraflow stack up)",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during MLflow " + what, e);
    }
    String text = response.body() == null ? "" : response.body();
    if (response.statusCode() / 100 != 2) {
      String code = "";
      String message = text;
      try {
        JsonNode err = JSON.readTree(text);
        code = err.path("error_code").asText("");
        message = err.path("message").asText(text);
      } catch (IOException notJson) {
        // keep the raw body
      }
      throw new MlflowRestException(
          "MLflow "
              + what
              + (body == null ? "" : " " + body)
              + " failed: HTTP "
              + response.statusCode()
              + " "
              + code
              + " "
              + message,
          response.statusCode(),
          code);
    }
    try {
      return text.isBlank() ? object() : JSON.readTree(text);
    } catch (IOException e) {
      throw new IllegalStateException("MLflow " + what + " answered non-JSON: " + text, e);
    }
  }
}
