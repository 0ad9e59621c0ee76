package io.loraflow.cli;

import io.dropwizard.util.Duration;
import io.loraflow.api.core.LinkSettings;
import io.loraflow.api.core.TemporalSettings;
import io.loraflow.infra.StackEnvFile;
import java.net.URI;
import java.util.Map;

/**
 * Where the command line finds the stack: {@code LORAFLOW_*} environment variables, then the state
 * directory's {@code stack.env} (written by {@code loraflow stack up}), then loopback defaults.
 */
public record CliSettings(TemporalSettings temporal, LinkSettings links) {

  public static CliSettings load(Map<String, String> env) {
    Map<String, String> lookup = StackEnvFile.merged(env);
    TemporalSettings temporal =
        new TemporalSettings(
            get(lookup, "LORAFLOW_TEMPORAL_TARGET", "127.0.0.1:7233"),
            get(lookup, "LORAFLOW_TEMPORAL_NAMESPACE", "default"),
            Duration.seconds(10));
    LinkSettings links =
        new LinkSettings(
            URI.create(get(lookup, "LORAFLOW_TEMPORAL_UI", "http://127.0.0.1:8233")),
            URI.create(get(lookup, "LORAFLOW_MLFLOW_URI", "http://127.0.0.1:5000")),
            URI.create(get(lookup, "LORAFLOW_S3_ENDPOINT", "http://127.0.0.1:9000")),
            URI.create(get(lookup, "LORAFLOW_MINIO_CONSOLE", "http://127.0.0.1:9001")),
            get(lookup, "LORAFLOW_BUCKET", "loraflow"));
    return new CliSettings(temporal, links);
  }

  /** The run service on {@code temporal}, with this CLI's query timeout. */
  public io.loraflow.api.core.RunService runService(io.loraflow.api.core.TemporalClients temporal) {
    return new io.loraflow.api.core.RunService(
        temporal.workflows(),
        links,
        java.time.Clock.systemUTC(),
        java.time.Duration.ofMillis(this.temporal.queryTimeout().toMilliseconds()));
  }

  private static String get(Map<String, String> lookup, String key, String fallback) {
    String v = lookup.get(key);
    return v == null || v.isBlank() ? fallback : v.strip();
  }
}
