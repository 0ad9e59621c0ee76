package io.loraflow.infra;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemporalConnectionTest {
  /**
   * A server that accepts connections and never answers (like the overloaded dev server of the
   * chaos soak, where a fresh worker exited after Temporal did not answer for 30 s): the connection
   * is asked again for the whole budget, then the error names the target and the budget.
   */
  @Test
  void aServerThatDoesNotAnswerIsAskedUntilTheWholeTimeoutThenNamed(@TempDir Path state)
      throws Exception {
    List<Socket> held = new ArrayList<>();
    try (ServerSocket silent = new ServerSocket(0)) {
      Thread acceptor =
          new Thread(
              () -> {
                try {
                  while (true) {
                    held.add(silent.accept()); // accepted, never answered
                  }
                } catch (Exception e) {
                  // closed
                }
              });
      acceptor.setDaemon(true);
      acceptor.start();
      Files.writeString(
          state.resolve("stack.env"),
          "LORAFLOW_TEMPORAL_TARGET=127.0.0.1:"
              + silent.getLocalPort()
              + "\nLORAFLOW_S3_ENDPOINT=http://127.0.0.1:9000\n"
              + "LORAFLOW_S3_ACCESS_KEY=a\nLORAFLOW_S3_SECRET_KEY=b\n"
              + "LORAFLOW_MLFLOW_URI=http://127.0.0.1:5000\n");
      StackSettings settings = StackSettings.load(Map.of("LORAFLOW_STATE_DIR", state.toString()));
      long t0 = System.nanoTime();
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () -> TemporalConnection.open(settings, Duration.ofSeconds(14)));
      double seconds = (System.nanoTime() - t0) / 1e9;
      assertTrue(e.getMessage().contains("127.0.0.1:" + silent.getLocalPort()), e.getMessage());
      assertTrue(e.getMessage().contains("within 14 s"), e.getMessage());
      // it kept asking for the whole budget (one SDK attempt is ~5 s), and not much longer
      assertTrue(seconds >= 13 && seconds < 40, "gave up after " + seconds + " s");
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }
}
