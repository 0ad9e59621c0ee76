package io.loraflow.gpu.cli;

import io.loraflow.activities.dataset.DatasetException;
import io.loraflow.activities.prompts.PromptsCommand;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.CommandLine;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import io.loraflow.engine.generate.GenerateCommand;
import io.loraflow.engine.train.TrainCommand;
import java.util.List;

/**
 * The {@code loraflow} command line of the engine jar ({@code
 * worker-gpu/target/loraflow-engine.jar}): the commands that need the engine (DJL, libtorch) or the
 * workers. The API jar ({@code io.loraflow.cli.Loraflow}) has the run commands and the server;
 * {@code ./loraflow} sends each command to its jar.
 */
public final class EngineCli {

  static final String DESCRIPTION =
      "The loraflow engine: QLoRA training and generation in Java on DJL's PyTorch engine, and the"
          + " Temporal workers.";

  static final String EPILOG =
      "Settings: the stack through LORAFLOW_* variables, else <state dir>/stack.env (chat,"
          + " worker); LORAFLOW_DEVICE=gpu|cpu for the GPU worker; LORAFLOW_MODELS_DIR for"
          + " models.";

  /** The API jar's commands: listed here for the typo suggestions, dispatched by ./loraflow. */
  static final List<CommandLine.Elsewhere> API_COMMANDS =
      List.of(
          api("run", "start a FineTune run from a spec file"),
          api("status", "a run's status, progress, result or failure"),
          api("cancel", "cancel a running run"),
          api("list", "runs, newest first"),
          api("demo", "the whole thing on this machine"),
          api("server", "the REST API until stopped"));

  private EngineCli() {}

  public static void main(String[] args) {
    CommandLine cli = commandLine();
    int code = cli.execute(args, Console.system());
    Command command = args.length > 0 ? cli.command(args[0]) : null;
    if (code == 0 && command != null && command.longRunning()) {
      return; // the workers' threads keep the JVM alive until it is stopped
    }
    System.exit(code);
  }

  static CommandLine commandLine() {
    List<Command> commands =
        List.of(
            new TrainCommand(),
            new GenerateCommand(),
            new ChatCommand(),
            new PromptsCommand(),
            new WorkerCommand());
    return new CommandLine(
        "loraflow", DESCRIPTION, EPILOG, commands, API_COMMANDS, EngineCli::report);
  }

  /**
   * Prints what went wrong; exit 1. (train, generate and prompts map their own bad input to exit 2
   * before this is reached.)
   */
  static int report(Exception e, Console console) {
    if (e instanceof DatasetException d) {
      console.err().println("loraflow: " + d.type() + ": " + d.getMessage());
      return ExitCodes.FAILED;
    }
    if (e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
      console.err().println("loraflow: " + e.getMessage());
      return ExitCodes.FAILED;
    }
    console.err().println("loraflow: failed: " + e);
    e.printStackTrace(console.err());
    return ExitCodes.FAILED;
  }

  private static CommandLine.Elsewhere api(String name, String summary) {
    return new CommandLine.Elsewhere(name, summary, "the API jar (api/target/loraflow.jar)");
  }
}
