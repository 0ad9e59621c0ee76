package io.loraflow.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.text.StringSubstitutor;
import org.apache.commons.text.lookup.StringLookup;

/**
 * Resolves {@code ${NAME}} in the configuration file from the environment first, then from the
 * {@code stack.env} that {@code loraflow stack up} writes into the state directory (see {@link
 * #stateDir}). So {@code loraflow server} finds the local stack without sourcing anything, and an
 * explicit environment variable always wins.
 */
public final class StackEnvLookup implements StringLookup {

  private final Map<String, String> env;
  private final Map<String, String> stackEnv;

  public StackEnvLookup(Map<String, String> env) {
    this.env = Map.copyOf(env);
    Path file = stackEnvFile(env);
    this.stackEnv = Files.isRegularFile(file) ? read(file) : Map.of();
  }

  /** {@code <state dir>/stack.env}. */
  public static Path stackEnvFile(Map<String, String> env) {
    return stateDir(env).resolve("stack.env");
  }

  /**
   * {@code $LORAFLOW_STATE_DIR}, else {@code $LORAFLOW_HOME/.state} (the launcher sets
   * LORAFLOW_HOME to the repository), else {@code ./.state}.
   */
  public static Path stateDir(Map<String, String> env) {
    String dir = env.get("LORAFLOW_STATE_DIR");
    if (dir != null && !dir.isBlank()) {
      return Path.of(dir);
    }
    String home = env.get("LORAFLOW_HOME");
    return home != null && !home.isBlank() ? Path.of(home, ".state") : Path.of(".state");
  }

  @Override
  public String lookup(String key) {
    String value = env.get(key);
    return value != null && !value.isEmpty() ? value : stackEnv.get(key);
  }

  /**
   * A strict substitutor: {@code ${NAME:-default}} takes the default, a bare {@code ${NAME}} that
   * is not set anywhere fails startup with the variable's name.
   */
  public StringSubstitutor substitutor() {
    return new StringSubstitutor(this)
        .setEnableUndefinedVariableException(true)
        .setEnableSubstitutionInVariables(true);
  }

  static Map<String, String> read(Path file) {
    Map<String, String> values = new HashMap<>();
    try {
      for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String line = raw.strip();
        if (line.startsWith("export ")) {
          line = line.substring("export ".length()).strip();
        }
        int eq = line.indexOf('=');
        if (line.isEmpty() || line.startsWith("#") || eq <= 0) {
          continue;
        }
        String value = line.substring(eq + 1).strip();
        if (value.length() >= 2
            && (value.startsWith("\"") && value.endsWith("\"")
                || value.startsWith("'") && value.endsWith("'"))) {
          value = value.substring(1, value.length() - 1);
        }
        values.put(line.substring(0, eq).strip(), value);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return values;
  }
}
