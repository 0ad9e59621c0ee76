package io.loraflow.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StackSettingsTest {
  @TempDir Path state;

  private void writeStackEnv(String text) throws IOException {
    Files.writeString(state.resolve("stack.env"), text);
  }

  @Test
  void readsStackEnvWrittenByStackUp() throws IOException {
    writeStackEnv(
        """
        # written by ./loraflow stack up
        export LORAFLOW_TEMPORAL_TARGET=127.0.0.1:7233
        LORAFLOW_S3_ENDPOINT="http://127.0.0.1:9000"
        LORAFLOW_S3_ACCESS_KEY=loraflow
        LORAFLOW_S3_SECRET_KEY='s3cr=et'
        LORAFLOW_BUCKET=loraflow
        LORAFLOW_MLFLOW_URI=http://127.0.0.1:5000
        """);
    StackSettings s = StackSettings.load(Map.of("LORAFLOW_STATE_DIR", state.toString()));
    assertEquals("127.0.0.1:7233", s.temporalTarget());
    assertEquals("default", s.temporalNamespace());
    assertEquals(URI.create("http://127.0.0.1:9000"), s.s3Endpoint());
    assertEquals("s3cr=et", s.s3SecretKey());
    assertEquals("loraflow", s.bucket());
    assertEquals(URI.create("http://127.0.0.1:5000"), s.mlflowUri());
    assertFalse(s.toString().contains("s3cr=et"), "secret must not be printed");
  }

  @Test
  void environmentOverridesTheFile() throws IOException {
    writeStackEnv(
        "LORAFLOW_TEMPORAL_TARGET=127.0.0.1:7233\nLORAFLOW_S3_ENDPOINT=http://127.0.0.1:9000\n"
            + "LORAFLOW_S3_ACCESS_KEY=a\nLORAFLOW_S3_SECRET_KEY=b\n"
            + "LORAFLOW_MLFLOW_URI=http://127.0.0.1:5000\n");
    StackSettings s =
        StackSettings.load(
            Map.of(
                "LORAFLOW_STATE_DIR", state.toString(),
                "LORAFLOW_TEMPORAL_TARGET", "temporal.prod:7233",
                "LORAFLOW_TEMPORAL_NAMESPACE", "ml",
                "LORAFLOW_BUCKET", "other-bucket"));
    assertEquals("temporal.prod:7233", s.temporalTarget());
    assertEquals("ml", s.temporalNamespace());
    assertEquals("other-bucket", s.bucket());
    assertEquals("a", s.s3AccessKey());
  }

  @Test
  void nothingConfiguredSaysHowToStartTheStack() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> StackSettings.load(Map.of("LORAFLOW_STATE_DIR", state.toString())));
    assertTrue(e.getMessage().contains("./loraflow stack up"), e.getMessage());
    assertTrue(e.getMessage().contains("LORAFLOW_S3_ENDPOINT"), e.getMessage());
    assertTrue(e.getMessage().contains("file missing"), e.getMessage());
  }

  @Test
  void badValuesAreNamed() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new StackSettings(
                    "localhost",
                    "default",
                    URI.create("http://127.0.0.1:9000"),
                    "a",
                    "b",
                    "loraflow",
                    URI.create("http://127.0.0.1:5000")));
    assertTrue(e.getMessage().contains("LORAFLOW_TEMPORAL_TARGET='localhost'"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new StackSettings(
                    "localhost:7233",
                    "default",
                    URI.create("localhost:9000"),
                    "a",
                    "b",
                    "loraflow",
                    URI.create("http://127.0.0.1:5000")));
    assertTrue(e.getMessage().contains("LORAFLOW_S3_ENDPOINT"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new StackSettings(
                    "localhost:7233",
                    "default",
                    URI.create("http://127.0.0.1:9000"),
                    "a",
                    "b",
                    "Bad_Bucket",
                    URI.create("http://127.0.0.1:5000")));
    assertTrue(e.getMessage().contains("Bad_Bucket"), e.getMessage());
  }

  @Test
  void unreachableServersAreListedWithTheFix() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (ServerSocket open = new ServerSocket(0)) {
      StackSettings s =
          new StackSettings(
              "127.0.0.1:" + closedPort,
              "default",
              URI.create("http://127.0.0.1:" + open.getLocalPort()),
              "a",
              "b",
              "loraflow",
              URI.create("http://127.0.0.1:" + closedPort));
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class, () -> s.requireReachable(Duration.ofSeconds(1)));
      assertTrue(e.getMessage().contains("Temporal at 127.0.0.1:" + closedPort), e.getMessage());
      assertTrue(e.getMessage().contains("MLflow"), e.getMessage());
      assertFalse(e.getMessage().contains("MinIO"), e.getMessage());
      assertTrue(e.getMessage().contains("./loraflow stack up"), e.getMessage());
    }
  }
}
