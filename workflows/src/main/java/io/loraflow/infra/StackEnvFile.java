package io.loraflow.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The one reader of {@code <state dir>/stack.env}, the client settings that {@code ./loraflow stack
 * up} writes ({@code LORAFLOW_TEMPORAL_TARGET=127.0.0.1:7233}, ...). Every Java side (workers, the
 * REST server's configuration, the command line, the integration tests) finds the stack through
 * here; the launcher only exports {@code LORAFLOW_STATE_DIR}.
 *
 * <p>Format: one {@code KEY=VALUE} per line, optional {@code export } prefix, optional single or
 * double quotes around the value, {@code #} comments and blank lines ignored; anything else is an
 * error that names the line.
 */
public final class StackEnvFile {

  public static final String STATE_DIR = "LORAFLOW_STATE_DIR";
  public static final String HOME = "LORAFLOW_HOME";

  private StackEnvFile() {}

  /**
   * The state directory: {@code $LORAFLOW_STATE_DIR}, else {@code $LORAFLOW_HOME/.state} (the
   * launcher sets LORAFLOW_HOME to the checkout), else the first {@code .state} holding a {@code
   * stack.env} in the working directory or one of its parents (tests run in a module directory),
   * else {@code ./.state}.
   */
  public static Path stateDir(Map<String, String> env) {
    String dir = env.get(STATE_DIR);
    if (dir != null && !dir.isBlank()) {
      return Path.of(dir);
    }
    String home = env.get(HOME);
    if (home != null && !home.isBlank()) {
      return Path.of(home, ".state");
    }
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve(".state").resolve("stack.env"))) {
        return d.resolve(".state");
      }
    }
    return Path.of(".state");
  }

  /** {@code <state dir>/stack.env} (it may not exist). */
  public static Path path(Map<String, String> env) {
    return stateDir(env).resolve("stack.env");
  }

  /** The file's settings, or an empty map when it does not exist. */
  public static Map<String, String> readIfPresent(Path file) {
    return Files.isRegularFile(file) ? read(file) : Map.of();
  }

  /** The settings of {@code file}; a line that is not {@code KEY=VALUE} fails naming it. */
  public static Map<String, String> read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read stack settings " + file, e);
    }
    Map<String, String> values = new HashMap<>();
    for (int n = 0; n < lines.size(); n++) {
      String line = lines.get(n).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("export ")) {
        line = line.substring("export ".length()).strip();
      }
      int eq = line.indexOf('=');
      String key = eq > 0 ? line.substring(0, eq).strip() : "";
      if (!key.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        throw new IllegalArgumentException(
            file
                + " line "
                + (n + 1)
                + " is not KEY=VALUE: '"
                + lines.get(n)
                + "'; rewrite it with ./loraflow stack up");
      }
      String value = line.substring(eq + 1).strip();
      if (value.length() >= 2
          && (value.startsWith("\"") && value.endsWith("\"")
              || value.startsWith("'") && value.endsWith("'"))) {
        value = value.substring(1, value.length() - 1);
      }
      values.put(key, value);
    }
    return values;
  }

  /**
   * The settings as a process sees them: the state dir's {@code stack.env}, each key overridden by
   * a non-blank environment variable of the same name (the environment always wins).
   */
  public static Map<String, String> merged(Map<String, String> env) {
    Map<String, String> merged = new HashMap<>(readIfPresent(path(env)));
    env.forEach(
        (key, value) -> {
          if (value != null && !value.isBlank()) {
            merged.put(key, value);
          }
        });
    return merged;
  }
}
