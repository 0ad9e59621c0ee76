package io.loraflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.loraflow.api.api.RunAccepted;
import io.loraflow.api.api.RunList;
import io.loraflow.api.api.RunSummary;
import io.loraflow.api.api.RunView;
import io.loraflow.api.core.RunFilter;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import io.loraflow.workflows.RunSpec;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code run}, {@code status}, {@code cancel} and {@code list}: the run service from a terminal.
 */
final class RunCommands {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private RunCommands() {}

  /** The four commands, each opening a session with {@code stack} when it runs. */
  static List<Command> all(StackSession.Opener stack) {
    return List.of(new Run(stack), new Status(stack), new Cancel(stack), new ListRuns(stack));
  }

  /** {@code run <spec.yaml|json> [--follow] [--key K]}: exit 0 when started (and completed). */
  static final class Run implements Command {
    private final StackSession.Opener stack;

    Run(StackSession.Opener stack) {
      this.stack = stack;
    }

    @Override
    public String name() {
      return "run";
    }

    @Override
    public String summary() {
      return "start a FineTune run from a spec file; --follow shows live progress and the result";
    }

    @Override
    public String epilog() {
      return SpecFields.help();
    }

    @Override
    public void configure(Subparser p) {
      p.addArgument("spec").metavar("SPEC").help("run spec file (.yaml, .yml or .json)");
      p.addArgument("--follow")
          .action(Arguments.storeTrue())
          .help("live progress, then the result (exit 1 unless the run completes)");
      p.addArgument("--key")
          .metavar("K")
          .help("idempotency key: a second run with the same key returns the first run");
    }

    @Override
    public int run(Namespace args, Console console) throws Exception {
      RunSpec spec = SpecFiles.read(Path.of(args.getString("spec")));
      try (StackSession s = stack.open(console.env())) {
        RunAccepted accepted = s.runs().start(spec, args.getString("key"));
        console
            .out()
            .println(
                (accepted.created() ? "started " : "already started (same idempotency key) ")
                    + accepted.runId());
        ResultPrinter.printLinks(accepted.links(), console.out());
        if (!args.getBoolean("follow")) {
          console.out().println("follow it: loraflow status " + accepted.runId() + " --follow");
          return ExitCodes.OK;
        }
        return followAndPrint(s, accepted.runId(), console);
      }
    }
  }

  /** {@code status <run-id> [--follow] [--json]}. */
  static final class Status implements Command {
    private final StackSession.Opener stack;

    Status(StackSession.Opener stack) {
      this.stack = stack;
    }

    @Override
    public String name() {
      return "status";
    }

    @Override
    public String summary() {
      return "a run's status, progress, result or failure, and links";
    }

    @Override
    public String epilog() {
      return "exit code: 0 when the run is RUNNING or COMPLETED, 1 otherwise\n"
          + "examples:\n  loraflow status finetune-faq-1\n  loraflow status finetune-faq-1 --json";
    }

    @Override
    public void configure(Subparser p) {
      p.addArgument("run").metavar("RUN_ID").help("run id (finetune-...)");
      p.addArgument("--follow")
          .action(Arguments.storeTrue())
          .help("follow until the run closes, then show the result");
      p.addArgument("--json").action(Arguments.storeTrue()).help("the run as JSON (as the API)");
    }

    @Override
    public int run(Namespace args, Console console) throws Exception {
      String runId = args.getString("run");
      try (StackSession s = stack.open(console.env())) {
        if (args.getBoolean("follow")) {
          return followAndPrint(s, runId, console);
        }
        RunView view = s.runs().describe(runId);
        if (args.getBoolean("json")) {
          console.out().println(JSON.writeValueAsString(view));
        } else {
          if (view.progress() != null) {
            console
                .out()
                .println(
                    ProgressLine.render(
                        new ProgressSnapshots().of(view.progress(), Clock.systemUTC().instant()),
                        Terminal.width() - 1));
          }
          ResultPrinter.print(view, s.runs().links().bucket(), console.out());
          Reports.printAnswers(s.settings(), view, console);
        }
        return exitCode(view);
      }
    }
  }

  /** {@code cancel <run-id> [--reason R]}. */
  static final class Cancel implements Command {
    private final StackSession.Opener stack;

    Cancel(StackSession.Opener stack) {
      this.stack = stack;
    }

    @Override
    public String name() {
      return "cancel";
    }

    @Override
    public String summary() {
      return "cancel a running run (training checkpoints first)";
    }

    @Override
    public void configure(Subparser p) {
      p.addArgument("run").metavar("RUN_ID").help("run id (finetune-...)");
      p.addArgument("--reason")
          .metavar("R")
          .setDefault("cancelled from the command line")
          .help("why; kept in the run's history");
    }

    @Override
    public int run(Namespace args, Console console) {
      String runId = args.getString("run");
      String reason = args.getString("reason");
      try (StackSession s = stack.open(console.env())) {
        s.runs().cancel(runId, reason);
      }
      console
          .out()
          .println("cancel sent to " + runId + " (" + reason + "); it stops at its next heartbeat");
      return ExitCodes.OK;
    }
  }

  /** {@code list [--base-model M] [--dataset SHA] [--status S] [--limit N]}. */
  static final class ListRuns implements Command {
    private final StackSession.Opener stack;

    ListRuns(StackSession.Opener stack) {
      this.stack = stack;
    }

    @Override
    public String name() {
      return "list";
    }

    @Override
    public String summary() {
      return "runs, newest first";
    }

    @Override
    public void configure(Subparser p) {
      p.addArgument("--base-model").metavar("M").help("only runs of this base model");
      p.addArgument("--dataset").metavar("SHA256").help("only runs on this dataset hash");
      p.addArgument("--status")
          .metavar("S")
          .help("RUNNING, COMPLETED, FAILED, CANCELED (or CANCELLED), TERMINATED, TIMED_OUT");
      p.addArgument("--limit").type(Integer.class).setDefault(20).metavar("N").help("at most N");
    }

    @Override
    public int run(Namespace args, Console console) {
      int limit = args.getInt("limit");
      if (limit < 1) {
        throw new io.loraflow.commandline.UsageException("--limit must be >= 1, got " + limit);
      }
      RunList list;
      try (StackSession s = stack.open(console.env())) {
        list =
            s.runs()
                .list(
                    new RunFilter(
                        args.getString("base_model"),
                        args.getString("dataset"),
                        args.getString("status"),
                        limit));
      }
      console.out().printf("%-64s %-10s %-12s %s%n", "RUN", "STATUS", "PHASE", "STARTED");
      for (RunSummary r : list.runs()) {
        console
            .out()
            .printf(
                "%-64s %-10s %-12s %s%n",
                r.runId(),
                statusWord(r.status(), r.phase()),
                r.phase() == null ? "-" : cancelledSpelling(r.phase()),
                r.startTime());
      }
      if (list.runs().isEmpty()) {
        console.out().println("(no runs match: " + list.query() + ")");
      }
      return ExitCodes.OK;
    }

    /**
     * The status column: one spelling (CANCELLED, as {@code status} prints it), and a run that
     * ended through the cancel signal (Temporal says FAILED, the phase says CANCELLED) shows as
     * CANCELLED, as its {@code status} does.
     */
    static String statusWord(String status, String phase) {
      String s = cancelledSpelling(status);
      return "FAILED".equals(s) && "CANCELLED".equals(cancelledSpelling(phase)) ? "CANCELLED" : s;
    }

    private static String cancelledSpelling(String word) {
      return word == null ? null : word.replace("CANCELED", "CANCELLED");
    }
  }

  /** Follows {@code runId} until it closes, then prints the result; returns the exit code. */
  static int followAndPrint(StackSession s, String runId, Console console)
      throws InterruptedException {
    Thread hint =
        new Thread(
            () ->
                console
                    .err()
                    .println(
                        "\nstopped following; the run goes on: loraflow status "
                            + runId
                            + " --follow"));
    Runtime.getRuntime().addShutdownHook(hint);
    RunView closed =
        new Follower(
                s.runs(),
                console.out(),
                Terminal.interactive(),
                Terminal.width(),
                Clock.systemUTC())
            .follow(runId);
    Runtime.getRuntime().removeShutdownHook(hint);
    ResultPrinter.print(closed, s.runs().links().bucket(), console.out());
    Reports.printAnswers(s.settings(), closed, console);
    return exitCode(closed);
  }

  static int exitCode(RunView view) {
    return switch (view.status()) {
      case "RUNNING", "COMPLETED" -> ExitCodes.OK;
      default -> ExitCodes.FAILED;
    };
  }
}
