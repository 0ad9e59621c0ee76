package io.loraflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.loraflow.api.api.SweepAccepted;
import io.loraflow.api.api.SweepView;
import io.loraflow.api.core.SweepService;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import io.loraflow.workflows.SweepChild;
import java.io.PrintStream;
import java.nio.file.Path;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;
import net.sourceforge.argparse4j.inf.Subparsers;

/**
 * {@code sweep start FILE} and {@code sweep status SWEEP-ID}: the Sweep workflow (FineTune children
 * over a grid of r, alpha, learning rate and epochs; the best registered) from a terminal, over the
 * same {@link SweepService} as {@code POST /v1/sweeps} and {@code GET /v1/sweeps/{id}}.
 */
final class SweepVerb implements Command {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final StackSession.Opener stack;

  SweepVerb(StackSession.Opener stack) {
    this.stack = stack;
  }

  @Override
  public String name() {
    return "sweep";
  }

  @Override
  public String summary() {
    return "start a sweep (FineTune children over a grid, the best registered) or show one";
  }

  @Override
  public String epilog() {
    return """
        sweep spec (YAML or JSON): base (a run spec, as for `loraflow run`), grid {loraR (at
        most 4 values), loraAlpha (2), learningRate (4), epochs (2): lists; empty = the base's
        value; at most 64 combinations}, maxConcurrent (1-16, default 2), childAttempts (1-10,
        default 2).
        examples:
          loraflow sweep start sweep.yaml
          loraflow sweep status sweep-faq-r-lr""";
  }

  @Override
  public void configure(Subparser p) {
    Subparsers actions = p.addSubparsers().dest("action").title("actions");
    Subparser start = actions.addParser("start").help("start a sweep from a spec file");
    start.addArgument("file").metavar("FILE").help("sweep spec, .yaml/.yml or .json");
    start.addArgument("--json").action(Arguments.storeTrue()).help("as the API returns it");
    Subparser status = actions.addParser("status").help("status, children and the best of a sweep");
    status.addArgument("sweepId").metavar("SWEEP-ID");
    status.addArgument("--json").action(Arguments.storeTrue()).help("as the API returns it");
  }

  @Override
  public int run(Namespace a, Console console) throws Exception {
    try (StackSession s = stack.open(console.env())) {
      SweepService sweeps = SweepService.of(s.runs());
      if ("start".equals(a.getString("action"))) {
        SweepAccepted accepted = sweeps.start(SpecFiles.readSweep(Path.of(a.getString("file"))));
        if (a.getBoolean("json")) {
          console.out().println(JSON.writeValueAsString(accepted));
        } else {
          console
              .out()
              .println(
                  "sweep "
                      + accepted.sweepId()
                      + " started: "
                      + accepted.children()
                      + " children\n  Temporal "
                      + accepted.temporalUi()
                      + "\n  follow it: loraflow sweep status "
                      + accepted.sweepId());
        }
        return ExitCodes.OK;
      }
      SweepView view = sweeps.describe(a.getString("sweepId"));
      if (a.getBoolean("json")) {
        console.out().println(JSON.writeValueAsString(view));
      } else {
        print(view, console.out());
      }
      return "FAILED".equals(view.status()) ? ExitCodes.FAILED : ExitCodes.OK;
    }
  }

  static void print(SweepView v, PrintStream out) {
    out.println("sweep " + v.sweepId() + "  " + v.status());
    if (v.children().isEmpty()) {
      out.println("  (no children reported yet: is a CPU worker running?)");
    } else {
      out.printf(
          "  %-3s %-5s %-6s %-10s %-7s %-10s %-10s %-8s %s%n",
          "#", "R", "ALPHA", "LR", "EPOCHS", "STATUS", "EVAL LOSS", "ROUGE-L", "RUN");
      for (SweepChild c : v.children()) {
        out.printf(
            "  %-3d %-5d %-6d %-10s %-7d %-10s %-10s %-8s %s%n",
            c.index(),
            c.loraR(),
            c.loraAlpha(),
            Numbers.rate(c.learningRate()),
            c.epochs(),
            c.status(),
            CatalogCommands.number(c.adapterEvalLoss()),
            CatalogCommands.number(c.rougeL()),
            c.workflowId());
        if (c.failure() != null) {
          out.println("      failed: " + c.failure());
        }
      }
    }
    SweepChild best =
        v.result() == null
            ? null
            : v.result().children().stream()
                .filter(c -> c.index() == v.result().bestIndex())
                .findFirst()
                .orElse(null);
    if (best != null) {
      out.println(
          "  best     #"
              + best.index()
              + " (r "
              + best.loraR()
              + ", alpha "
              + best.loraAlpha()
              + ", lr "
              + Numbers.rate(best.learningRate())
              + ", epochs "
              + best.epochs()
              + "): held-out eval loss "
              + CatalogCommands.number(best.adapterEvalLoss()));
      if (v.result().registration() != null) {
        var r = v.result().registration();
        out.println(
            "  registry "
                + r.modelName()
                + " version "
                + r.version()
                + " "
                + r.aliases()
                + (r.decision() == null ? "" : "\n  promotion " + Numbers.roundIn(r.decision())));
      }
    }
    if (v.failure() != null) {
      out.println("  failed   " + v.failure().message());
    }
    out.println("  Temporal " + v.temporalUi());
  }
}
