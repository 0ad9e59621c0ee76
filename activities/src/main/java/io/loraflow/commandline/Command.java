package io.loraflow.commandline;

import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * One subcommand of a loraflow jar, declared once: its arguments (argparse4j generates the usage
 * line, {@code --help} and the "did you mean" suggestions from them, so they cannot drift from what
 * is accepted) and what it does.
 */
public interface Command {

  /** The word after {@code loraflow}, e.g. {@code run}. */
  String name();

  /** One line for the command list of {@code loraflow --help}. */
  String summary();

  /** The paragraph at the top of {@code loraflow <name> --help}; the summary unless overridden. */
  default String description() {
    return summary();
  }

  /** Text after the options in {@code --help}: examples, spec fields; null for none. */
  default String epilog() {
    return null;
  }

  /** Declares the arguments ({@code -h/--help} is added by {@link CommandLine}). */
  void configure(Subparser parser);

  /**
   * Runs with the parsed arguments; returns the exit code ({@link ExitCodes}). A {@link
   * UsageException} is reported with the command's usage line (exit 2).
   */
  int run(Namespace args, Console console) throws Exception;

  /**
   * True for commands that run until the JVM is stopped (server, workers): their non-daemon threads
   * keep the process alive after {@link #run} returns, so the launcher must not call exit.
   */
  default boolean longRunning() {
    return false;
  }
}
