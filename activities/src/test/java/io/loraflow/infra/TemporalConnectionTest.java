package io.loraflow.infra;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemporalConnectionTest {
  @Test
  void aServerThatNeverAnswersIsAskedUntilTheTimeoutThenNamed(@TempDir Path state)
      throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    Files.writeString(
        state.resolve("stack.env"),
        "LORAFLOW_TEMPORAL_TARGET=127.0.0.1:"
            + port
            + "\nLORAFLOW_S3_ENDPOINT=http://127.0.0.1:9000\n"
            + "LORAFLOW_S3_ACCESS_KEY=a\nLORAFLOW_S3_SECRET_KEY=b\n"
            + "LORAFLOW_MLFLOW_URI=http://127.0.0.1:5000\n");
    StackSettings settings = StackSettings.load(Map.of("LORAFLOW_STATE_DIR", state.toString()));
    long t0 = System.nanoTime();
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> TemporalConnection.open(settings, Duration.ofSeconds(4)));
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
    assertTrue(e.getMessage().contains("within 4 s"), e.getMessage());
    // it kept asking for (nearly) the whole budget, and not much longer
    assertTrue(seconds >= 2.5 && seconds < 15, "gave up after " + seconds + " s");
  }
}
