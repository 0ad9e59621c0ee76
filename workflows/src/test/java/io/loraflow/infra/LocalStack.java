package io.loraflow.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The running local stack (deploy/local/stack.sh) as integration tests see it: its client settings,
 * taken from the environment first (./loraflow test exports them) and else from {@code
 * <state>/stack.env}, and the script itself, to restart a service.
 */
final class LocalStack {
  private static final Path STACK_SCRIPT = Path.of("deploy", "local", "stack.sh");

  private final Path repoRoot;
  private final Path stateDir;
  private final Map<String, String> settings;

  private LocalStack(Path repoRoot, Path stateDir, Map<String, String> settings) {
    this.repoRoot = repoRoot;
    this.stateDir = stateDir;
    this.settings = settings;
  }

  /** Finds the checkout (upwards from the working directory) and the stack it started. */
  static LocalStack find() {
    Path repoRoot = findRepoRoot(Path.of("").toAbsolutePath());
    String stateEnv = System.getenv("LORAFLOW_STATE_DIR");
    Path stateDir = stateEnv != null ? Path.of(stateEnv) : repoRoot.resolve(".state");
    Path envFile = stateDir.resolve("stack.env");
    if (!Files.isRegularFile(envFile)) {
      throw new IllegalStateException(
          "no "
              + envFile
              + ": start the local stack with './loraflow stack up' (or run './loraflow test')");
    }
    Map<String, String> settings = new HashMap<>(StackEnvFile.read(envFile));
    System.getenv()
        .forEach(
            (key, value) -> {
              if (key.startsWith("LORAFLOW_")) {
                settings.put(key, value);
              }
            });
    return new LocalStack(repoRoot, stateDir, settings);
  }

  /** A client setting such as LORAFLOW_TEMPORAL_TARGET; fails naming the key when it is absent. */
  String get(String key) {
    String value = settings.get(key);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          key + " is neither in the environment nor in " + stateDir.resolve("stack.env"));
    }
    return value;
  }

  /** The pid of a service started by stack.sh (from {@code <state>/run/<service>.pid}). */
  long pidOf(String service) {
    Path pidFile = stateDir.resolve("run").resolve(service + ".pid");
    try {
      return Long.parseLong(Files.readString(pidFile).trim());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + pidFile + "; is the stack up?", e);
    }
  }

  /** Stops and starts one service through stack.sh and waits until it is healthy again. */
  void restart(String service) throws IOException, InterruptedException {
    ProcessBuilder builder =
        new ProcessBuilder(List.of("bash", STACK_SCRIPT.toString(), "restart", service))
            .directory(repoRoot.toFile())
            .redirectErrorStream(true);
    builder.environment().put("LORAFLOW_STATE_DIR", stateDir.toString());
    Process process = builder.start();
    // stack.sh waits up to LORAFLOW_STACK_TIMEOUT (180 s) for health; leave it room.
    if (!process.waitFor(5, TimeUnit.MINUTES)) {
      process.destroy();
      throw new IllegalStateException("'stack.sh restart " + service + "' did not finish in 5 min");
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      throw new IllegalStateException(
          "'stack.sh restart " + service + "' exited " + process.exitValue() + ": " + output);
    }
  }

  private static Path findRepoRoot(Path start) {
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve(STACK_SCRIPT))) {
        return dir;
      }
    }
    throw new IllegalStateException("no " + STACK_SCRIPT + " above " + start);
  }
}
