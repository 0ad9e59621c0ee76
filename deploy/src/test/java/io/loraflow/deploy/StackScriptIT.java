package io.loraflow.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/local/stack.sh as a user meets it, next to the running local stack (./loraflow test starts
 * it).
 */
class StackScriptIT {
  private static final Path ROOT = YamlDocuments.repoRoot();
  private static final Path SCRIPT = ROOT.resolve("deploy/local/stack.sh");

  record Result(int exitCode, String output) {}

  @Test
  void statusReportsEveryServiceOfTheRunningStackHealthy() throws Exception {
    Map<String, String> env =
        System.getenv("LORAFLOW_STATE_DIR") == null
            ? Map.of()
            : Map.of("LORAFLOW_STATE_DIR", System.getenv("LORAFLOW_STATE_DIR"));
    Result status = run(env, "status");
    assertEquals(0, status.exitCode(), status.output());
    for (String service : List.of("minio", "temporal", "mlflow")) {
      assertTrue(
          status
              .output()
              .lines()
              .anyMatch(
                  l -> l.startsWith(service) && l.endsWith("healthy") && !l.endsWith("unhealthy")),
          service + " not healthy in: " + status.output());
    }
  }

  @Test
  void aTakenPortStopsUpWithOneLineNamingTheVariableAndStartsNothing(@TempDir Path state)
      throws Exception {
    try (ServerSocket squatter = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int taken = squatter.getLocalPort();
      Map<String, String> env =
          Map.of(
              "LORAFLOW_STATE_DIR", state.toString(),
              "TEMPORAL_PORT", String.valueOf(freePort()),
              "TEMPORAL_UI_PORT", String.valueOf(freePort()),
              "MINIO_PORT", String.valueOf(freePort()),
              "MINIO_CONSOLE_PORT", String.valueOf(freePort()),
              "MLFLOW_PORT", String.valueOf(taken));
      Result up = run(env, "up");
      assertEquals(1, up.exitCode(), up.output());
      String last = up.output().strip().lines().reduce((a, b) -> b).orElse("");
      assertTrue(
          last.matches(
              "stack: port "
                  + taken
                  + " for mlflow is taken by another process.*MLFLOW_PORT=<port>"),
          "unexpected last line: " + last);
      Path runDir = state.resolve("run");
      if (Files.isDirectory(runDir)) {
        try (Stream<Path> pids = Files.list(runDir)) {
          assertEquals(List.of(), pids.toList(), "up started something although a port was taken");
        }
      }
    }
  }

  @Test
  void anUnknownCommandPrintsTheUsage() throws Exception {
    Result result = run(Map.of(), "stat");
    assertEquals(1, result.exitCode());
    assertTrue(
        result.output().contains("usage: loraflow stack up|down|status|logs"), result.output());
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static Result run(Map<String, String> env, String... args) throws Exception {
    ProcessBuilder builder = new ProcessBuilder("bash", SCRIPT.toString());
    builder.command().addAll(List.of(args));
    builder.directory(ROOT.toFile()).redirectErrorStream(true);
    builder.environment().putAll(env);
    Process process = builder.start();
    if (!process.waitFor(10, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError("stack.sh " + String.join(" ", args) + " ran over 10 min");
    }
    return new Result(
        process.exitValue(),
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }
}
