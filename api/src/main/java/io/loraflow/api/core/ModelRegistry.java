package io.loraflow.api.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Reads the MLflow model registry over its REST API: which FineTune run produced a registered
 * adapter version (the {@code loraflow.workflow_id} tag that registerAdapter sets).
 */
public final class ModelRegistry {

  /** Version tag naming the workflow (run id) that registered the version. */
  public static final String WORKFLOW_ID_TAG = "loraflow.workflow_id";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI mlflow;
  private final HttpClient http;

  public ModelRegistry(URI mlflow) {
    this.mlflow = mlflow;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  /**
   * The run id behind {@code ref}.
   *
   * @throws ModelVersionNotFoundException when MLflow does not know the version
   * @throws IllegalArgumentException when the version has no workflow tag
   */
  public String workflowIdOf(ModelVersionRef ref) {
    String path =
        ref.version() != null
            ? "/api/2.0/mlflow/model-versions/get?name="
                + enc(ref.name())
                + "&version="
                + enc(ref.version())
            : "/api/2.0/mlflow/registered-models/alias?name="
                + enc(ref.name())
                + "&alias="
                + enc(ref.alias());
    JsonNode version = get(path, ref).path("model_version");
    for (JsonNode tag : version.path("tags")) {
      if (WORKFLOW_ID_TAG.equals(tag.path("key").asText())) {
        return tag.path("value").asText();
      }
    }
    throw new IllegalArgumentException(
        ref
            + " (version "
            + version.path("version").asText("?")
            + ") has no "
            + WORKFLOW_ID_TAG
            + " tag, so it was not registered by a loraflow run; retrain from a run id instead");
  }

  private JsonNode get(String path, ModelVersionRef ref) {
    URI uri = URI.create(mlflow.toString().replaceAll("/+$", "") + path);
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(
          "MLflow at " + mlflow + " is not reachable (" + e.getMessage() + ")", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while asking MLflow about " + ref, e);
    }
    if (response.statusCode() == 404
        || response.body().contains("RESOURCE_DOES_NOT_EXIST")
        || response.body().contains("INVALID_PARAMETER_VALUE")) {
      throw new ModelVersionNotFoundException(
          "MLflow at "
              + mlflow
              + " has no registered model version "
              + ref
              + "; see the Models page of the MLflow UI");
    }
    if (response.statusCode() != 200) {
      throw new IllegalStateException(
          "MLflow answered " + response.statusCode() + " for " + uri + ": " + response.body());
    }
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new IllegalStateException("MLflow answered non-JSON for " + uri, e);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
