package io.loraflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.loraflow.api.api.RunAccepted;
import io.loraflow.api.api.RunList;
import io.loraflow.api.api.RunSummary;
import io.loraflow.api.api.RunView;
import io.loraflow.api.core.RunFilter;
import io.loraflow.api.core.RunService;
import io.loraflow.workflows.RunSpec;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Set;

/**
 * {@code run}, {@code status}, {@code cancel} and {@code list}: the run service from a terminal.
 */
final class RunCommands {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final RunService runs;
  private final PrintStream out;

  RunCommands(RunService runs, PrintStream out) {
    this.runs = runs;
    this.out = out;
  }

  /** {@code run <spec.yaml|json> [--follow] [--key K]}: exit 0 when started (and completed). */
  int run(List<String> argv) throws InterruptedException {
    Args a = Args.parse("run", argv, Set.of("--key"), Set.of("--follow"));
    RunSpec spec =
        SpecFiles.read(Path.of(a.onePositional("run", "run spec file (.yaml or .json)")));
    RunAccepted accepted = runs.start(spec, a.value("--key", null));
    out.println(
        (accepted.created() ? "started " : "already started (same idempotency key) ")
            + accepted.runId());
    ResultPrinter.printLinks(accepted.links(), out);
    if (!a.flag("--follow")) {
      out.println("follow it: loraflow status " + accepted.runId() + " --follow");
      return 0;
    }
    return followAndPrint(accepted.runId());
  }

  /** {@code status <run-id> [--follow] [--json]}. */
  int status(List<String> argv) throws Exception {
    Args a = Args.parse("status", argv, Set.of(), Set.of("--follow", "--json"));
    String runId = a.onePositional("status", "run id");
    if (a.flag("--follow")) {
      return followAndPrint(runId);
    }
    RunView view = runs.describe(runId);
    if (a.flag("--json")) {
      out.println(JSON.writeValueAsString(view));
    } else {
      if (view.progress() != null) {
        out.println(
            ProgressLine.render(
                new ProgressSnapshots().of(view.progress(), Clock.systemUTC().instant()),
                Terminal.width() - 1));
      }
      ResultPrinter.print(view, runs.links().bucket(), out);
    }
    return exitCode(view);
  }

  /** {@code cancel <run-id> [--reason R]}. */
  int cancel(List<String> argv) {
    Args a = Args.parse("cancel", argv, Set.of("--reason"), Set.of());
    String runId = a.onePositional("cancel", "run id");
    String reason = a.value("--reason", "cancelled from the command line");
    runs.cancel(runId, reason);
    out.println("cancel sent to " + runId + " (" + reason + "); it stops at its next heartbeat");
    return 0;
  }

  /** {@code list [--base-model M] [--dataset SHA] [--status S] [--limit N]}. */
  int list(List<String> argv) {
    Args a =
        Args.parse(
            "list", argv, Set.of("--base-model", "--dataset", "--status", "--limit"), Set.of());
    int limit;
    try {
      limit = Integer.parseInt(a.value("--limit", "20"));
    } catch (NumberFormatException e) {
      throw new Args.UsageException(
          "list: --limit must be a number, got " + a.value("--limit", ""));
    }
    RunList list =
        runs.list(
            new RunFilter(
                a.value("--base-model", null),
                a.value("--dataset", null),
                a.value("--status", null),
                limit));
    out.printf("%-64s %-10s %-12s %s%n", "RUN", "STATUS", "PHASE", "STARTED");
    for (RunSummary r : list.runs()) {
      out.printf(
          "%-64s %-10s %-12s %s%n",
          r.runId(), r.status(), r.phase() == null ? "-" : r.phase(), r.startTime());
    }
    if (list.runs().isEmpty()) {
      out.println("(no runs match: " + list.query() + ")");
    }
    return 0;
  }

  int followAndPrint(String runId) throws InterruptedException {
    Thread hint =
        new Thread(
            () ->
                System.err.println(
                    "\nstopped following; the run goes on: loraflow status "
                        + runId
                        + " --follow"));
    Runtime.getRuntime().addShutdownHook(hint);
    RunView closed =
        new Follower(runs, out, Terminal.interactive(), Terminal.width(), Clock.systemUTC())
            .follow(runId);
    Runtime.getRuntime().removeShutdownHook(hint);
    ResultPrinter.print(closed, runs.links().bucket(), out);
    return exitCode(closed);
  }

  static int exitCode(RunView view) {
    return switch (view.status()) {
      case "RUNNING", "COMPLETED" -> 0;
      default -> 1;
    };
  }
}
