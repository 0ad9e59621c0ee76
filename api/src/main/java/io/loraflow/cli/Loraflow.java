package io.loraflow.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.loraflow.api.core.InvalidRunSpecException;
import io.loraflow.api.core.ModelVersionNotFoundException;
import io.loraflow.api.core.RunConflictException;
import io.loraflow.api.core.RunNotFoundException;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.CommandLine;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code loraflow} command line of the API jar ({@code api/target/loraflow.jar}): the REST
 * server, runs (start, follow, cancel, list) and the demo. The engine's commands (train, generate,
 * chat, prompts, worker) ship with the engine jar ({@code worker-gpu/target/loraflow-engine.jar},
 * {@code io.loraflow.gpu.cli.EngineCli}); the root {@code ./loraflow} script sends each command to
 * its jar and adds {@code stack}, {@code fetch-model} and {@code test}.
 */
public final class Loraflow {

  static final String DESCRIPTION =
      "Fine-tunes LLMs with QLoRA as durable Temporal workflows; adapters in MinIO, runs and"
          + " registered adapters in MLflow.";

  static final String EPILOG =
      "launcher commands (./loraflow only): stack up|down|status|logs|restart|env, fetch-model,"
          + " test [maven args]\n"
          + "The stack is found through LORAFLOW_* variables, else <state dir>/stack.env (written"
          + " by ./loraflow stack up; state dir: LORAFLOW_STATE_DIR, default ./.state).";

  /** The engine jar's commands: listed here, dispatched there by {@code ./loraflow}. */
  static final List<CommandLine.Elsewhere> ENGINE_COMMANDS =
      List.of(
          engine("train", "QLoRA training on local files, no stack needed"),
          engine("generate", "generate text with the engine from a model directory or GGUF file"),
          engine("chat", "talk to a fine-tuned adapter (run id or registered version)"),
          engine("prompts", "prepareDataset + formatPrompts on local files, no stack needed"),
          engine("worker", "run Temporal workers (cpu, gpu or all) until stopped"));

  private Loraflow() {}

  public static void main(String[] args) {
    CommandLine cli = commandLine(StackSession.CONNECT);
    int code = cli.execute(args, Console.system());
    Command command = args.length > 0 ? cli.command(args[0]) : null;
    if (code == 0 && command != null && command.longRunning()) {
      return; // the server's threads keep the JVM alive until it is stopped
    }
    System.exit(code);
  }

  /** This jar's command line, reaching the stack through {@code stack}. */
  static CommandLine commandLine(StackSession.Opener stack) {
    List<Command> commands = new ArrayList<>();
    commands.addAll(RunCommands.all(stack));
    commands.add(new RetrainCommand(stack));
    commands.addAll(CatalogCommands.all(stack));
    commands.add(new TryVerb(stack));
    commands.add(new SweepVerb(stack));
    commands.add(new KeysVerb());
    commands.add(new DemoCommand());
    commands.add(new ServerCommand());
    return new CommandLine(
        "loraflow", DESCRIPTION, EPILOG, commands, ENGINE_COMMANDS, Loraflow::report);
  }

  /** Prints what went wrong and what to do; returns the exit code. */
  static int report(Exception e, Console console) {
    if (e instanceof InvalidRunSpecException invalid) {
      console.err().println("loraflow: invalid run spec:");
      invalid.problems().forEach(p -> console.err().println("  - " + p));
      console.err().println("(loraflow run --help lists every field)");
      return ExitCodes.FAILED;
    }
    String marker = "invalid run spec: ";
    if (e instanceof IllegalArgumentException
        && e.getMessage() != null
        && e.getMessage().contains(marker)) {
      // a spec file that parsed but breaks rules (RunSpec.validate): one problem per line
      String m = e.getMessage();
      int at = m.indexOf(marker);
      console.err().println("loraflow: " + m.substring(0, at) + "invalid run spec:");
      for (String p : m.substring(at + marker.length()).split("; ")) {
        console.err().println("  - " + p);
      }
      console.err().println("(loraflow run --help lists every field)");
      return ExitCodes.FAILED;
    }
    if (e instanceof RunNotFoundException
        || e instanceof io.loraflow.api.core.NotFoundException
        || e instanceof io.loraflow.api.core.UpstreamException
        || e instanceof RunConflictException
        || e instanceof ModelVersionNotFoundException
        || e instanceof IllegalArgumentException
        || e instanceof IllegalStateException) {
      console.err().println("loraflow: " + e.getMessage());
      return ExitCodes.FAILED;
    }
    Status.Code code = grpcCode(e);
    if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) {
      console
          .err()
          .println(
              "loraflow: Temporal at "
                  + CliSettings.load(console.env()).temporal().target()
                  + " is not reachable; start the stack with `./loraflow stack up`"
                  + " (or set LORAFLOW_TEMPORAL_TARGET)");
      return ExitCodes.FAILED;
    }
    console.err().println("loraflow: failed: " + e);
    e.printStackTrace(console.err());
    return ExitCodes.FAILED;
  }

  static Status.Code grpcCode(Throwable e) {
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof StatusRuntimeException s) {
        return s.getStatus().getCode();
      }
    }
    return null;
  }

  private static CommandLine.Elsewhere engine(String name, String summary) {
    return new CommandLine.Elsewhere(
        name, summary, "the engine jar (worker-gpu/target/loraflow-engine.jar)");
  }
}
