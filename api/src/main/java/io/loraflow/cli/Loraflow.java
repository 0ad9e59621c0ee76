package io.loraflow.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.loraflow.api.LoraflowApplication;
import io.loraflow.api.core.InvalidRunSpecException;
import io.loraflow.api.core.RunConflictException;
import io.loraflow.api.core.RunNotFoundException;
import io.loraflow.api.core.TemporalClients;
import io.loraflow.engine.generate.GenerateCommand;
import io.loraflow.engine.train.TrainCommand;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code loraflow} command line (main class of {@code api/target/loraflow.jar}; the root {@code
 * loraflow} script adds {@code stack}, {@code fetch-model} and {@code test}).
 */
public final class Loraflow {

  static final String USAGE =
      """
      usage: loraflow <command> [args]

        demo [--preset learns|seed] [--epochs N] [--eval-prompts N] [--rows N] [--base-model M]
             [--no-stack] [--no-workers]
                                          the whole thing on this machine: stack up, CPU + GPU workers,
                                          fine-tune SmolLM2-135M-Instruct on the sample FAQ, live
                                          progress, before/after answers on held-out and seen
                                          questions, links (workers stopped after); preset learns
                                          (default: 3 epochs, batch 4, lr 1e-3, best epoch kept) or
                                          seed (the seed's recipe: 1 epoch, batch 1, lr 2e-4)
        run <spec.yaml|json> [--follow] [--key K]
                                          start a FineTune run (K: idempotency key); --follow shows
                                          live progress and the result
        status <run-id> [--follow] [--json]
                                          status, progress, result or failure, links
        cancel <run-id> [--reason R]      cancel a running run (training checkpoints first)
        list [--base-model M] [--dataset SHA256] [--status S] [--limit N]
                                          runs, newest first
        server [config.yml]               the REST API (default config: loraflow-server.yml in the jar;
                                          needs LORAFLOW_API_TOKEN)
        worker cpu|gpu|all                run Temporal workers until stopped (Ctrl-C / SIGTERM)
        chat --adapter <run-id|models:/name/version|name@alias> [--prompt Q] [--base]
             [--max-new-tokens N] [--temperature T] [--device cpu|gpu]
                                          talk to a fine-tuned adapter (or --base: its base model)
        generate --model <dir|file.gguf> --prompt "..." [--chat] [...]
                                          generate with the engine (loraflow generate --help)
        train ...                         QLoRA training on local files, no stack (loraflow train --help)

      The stack is found through LORAFLOW_* variables or .state/stack.env (loraflow stack up).
      """;

  private Loraflow() {}

  public static void main(String[] args) {
    if (args.length > 0 && (args[0].equals("server") || args[0].equals("worker"))) {
      // long-running: the JVM lives as long as their non-daemon threads
      int code = run(args, System.out, System.err);
      if (code != 0) {
        System.exit(code);
      }
      return;
    }
    System.exit(run(args, System.out, System.err));
  }

  /** Runs one command; returns the exit code (0 ok, 1 failed, 2 usage). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || List.of("help", "-h", "--help").contains(args[0])) {
      out.print(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    String command = args[0];
    List<String> rest = Arrays.asList(args).subList(1, args.length);
    CliSettings settings = null;
    try {
      switch (command) {
        case "server":
          return server(rest);
        case "worker":
          return WorkerCommand.run(rest, out);
        case "generate":
          return GenerateCommand.run(rest.toArray(String[]::new));
        case "train":
          return TrainCommand.run(rest.toArray(String[]::new));
        case "demo":
          settings = CliSettings.load(System.getenv());
          return new DemoCommand(out, err).run(rest);
        case "chat":
          settings = CliSettings.load(System.getenv());
          try (TemporalClients temporal = TemporalClients.connect(settings.temporal())) {
            return new ChatCommand(settings.runService(temporal), out).run(rest);
          }
        case "run":
        case "status":
        case "cancel":
        case "list":
          settings = CliSettings.load(System.getenv());
          try (TemporalClients temporal = TemporalClients.connect(settings.temporal())) {
            RunCommands commands = new RunCommands(settings.runService(temporal), out);
            return switch (command) {
              case "run" -> commands.run(rest);
              case "status" -> commands.status(rest);
              case "cancel" -> commands.cancel(rest);
              default -> commands.list(rest);
            };
          }
        default:
          err.println("loraflow: unknown command '" + command + "'");
          err.print(USAGE);
          return 2;
      }
    } catch (Args.UsageException e) {
      err.println("loraflow " + e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (InvalidRunSpecException e) {
      err.println("loraflow: invalid run spec:");
      e.problems().forEach(p -> err.println("  - " + p));
      return 1;
    } catch (RunNotFoundException
        | RunConflictException
        | io.loraflow.api.core.ModelVersionNotFoundException
        | IllegalArgumentException e) {
      err.println("loraflow: " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 130;
    } catch (Exception e) {
      Status.Code code = grpcCode(e);
      if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) {
        err.println(
            "loraflow: Temporal at "
                + (settings == null ? "?" : settings.temporal().target())
                + " is not reachable; start the stack with `loraflow stack up`"
                + " (or set LORAFLOW_TEMPORAL_TARGET)");
        return 1;
      }
      err.println("loraflow " + command + " failed: " + e);
      e.printStackTrace(err);
      return 1;
    }
  }

  private static int server(List<String> rest) throws Exception {
    if (rest.size() > 1) {
      throw new Args.UsageException("server: expected at most one config file, got " + rest);
    }
    String config = rest.isEmpty() ? LoraflowApplication.DEFAULT_CONFIG : rest.get(0);
    new LoraflowApplication().run("server", config);
    return 0;
  }

  static Status.Code grpcCode(Throwable e) {
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof StatusRuntimeException s) {
        return s.getStatus().getCode();
      }
    }
    return null;
  }
}
