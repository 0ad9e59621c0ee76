package io.loraflow.api.health;

import com.codahale.metrics.health.HealthCheck;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Healthy when a GET of a service's health URL answers 200 within 3 s: MinIO's {@code
 * /minio/health/live}, MLflow's {@code /health}.
 */
public final class HttpHealthCheck extends HealthCheck {

  private final String service;
  private final URI url;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  public HttpHealthCheck(String service, URI url) {
    this.service = service;
    this.url = url;
  }

  /** MinIO's liveness URL under its S3 endpoint. */
  public static HttpHealthCheck minio(URI s3Endpoint) {
    return new HttpHealthCheck("MinIO", resolve(s3Endpoint, "/minio/health/live"));
  }

  /** MLflow's health URL. */
  public static HttpHealthCheck mlflow(URI mlflow) {
    return new HttpHealthCheck("MLflow", resolve(mlflow, "/health"));
  }

  @Override
  protected Result check() throws InterruptedException {
    try {
      HttpResponse<Void> response =
          http.send(
              HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(3)).GET().build(),
              HttpResponse.BodyHandlers.discarding());
      return response.statusCode() == 200
          ? Result.healthy("%s at %s", service, url)
          : Result.unhealthy("%s at %s answered %d", service, url, response.statusCode());
    } catch (IOException e) {
      return Result.unhealthy("%s at %s not reachable: %s", service, url, e.toString());
    }
  }

  private static URI resolve(URI base, String path) {
    return URI.create(base.toString().replaceAll("/+$", "") + path);
  }
}
