package io.loraflow.commandline;

import java.io.PrintStream;
import java.util.Map;

/**
 * Where a command writes and what it reads from its process: stdout for results, stderr for
 * diagnostics (progress of libraries, warnings, errors), the environment (a copy, so tests can pass
 * their own).
 */
public record Console(PrintStream out, PrintStream err, Map<String, String> env) {

  public Console {
    env = Map.copyOf(env);
  }

  /** This process's streams and environment. */
  public static Console system() {
    return new Console(System.out, System.err, System.getenv());
  }
}
