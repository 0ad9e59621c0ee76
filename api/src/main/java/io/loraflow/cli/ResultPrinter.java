package io.loraflow.cli;

import io.loraflow.api.api.RunView;
import io.loraflow.workflows.EvalResult;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.RegistrationResult;
import io.loraflow.workflows.RunLinks;
import io.loraflow.workflows.TrainResult;
import java.io.PrintStream;
import java.util.Locale;

/** Prints a run's status, result numbers (or failure) and links, for people. */
final class ResultPrinter {

  private ResultPrinter() {}

  static void print(RunView v, String bucket, PrintStream out) {
    out.println(
        "run "
            + v.runId()
            + "  "
            + v.status()
            + (v.phase() == null || v.phase().equalsIgnoreCase(v.status())
                ? ""
                : "  (" + v.phase() + ")"));
    if (v.startTime() != null) {
      out.println(
          "  started  "
              + v.startTime()
              + (v.closeTime() == null ? "" : "   closed  " + v.closeTime()));
    }
    if (v.failure() != null) {
      // the whole message, however long: it says what to fix
      out.println(
          "  failure  " + v.failure().type() + ": " + Numbers.roundIn(v.failure().message()));
    }
    if (v.progressError() != null) {
      out.println("  progress " + Numbers.roundIn(v.progressError()));
    }
    FineTuneResult r = v.result();
    if (r != null) {
      TrainResult t = r.train();
      if (t != null) {
        Double tps = t.metrics().get("tokens_per_second");
        out.println(
            String.format(
                Locale.ROOT,
                "  train    %d steps, final loss %s%s",
                t.steps(),
                Numbers.round(t.finalLoss()),
                tps == null ? "" : ", " + ProgressLine.formatRate(tps) + " tokens/s"));
        if (t.bestEvalLoss() != null) {
          out.println(
              String.format(
                  Locale.ROOT,
                  "  best     step %d by held-out loss %.4f%s (the published adapter)",
                  t.bestStep(),
                  t.bestEvalLoss(),
                  t.stoppedEarly() ? ", stopped early" : ""));
        }
        out.println("  adapter  s3://" + bucket + "/" + t.adapterKey());
      }
      EvalResult e = r.eval();
      if (e != null) {
        out.println(
            String.format(
                Locale.ROOT,
                "  eval     loss %.3f -> %.3f (%+.1f%%), perplexity %.2f -> %.2f, %d prompts",
                e.baseEvalLoss(),
                e.adapterEvalLoss(),
                100 * e.relativeLossChange(),
                e.basePerplexity(),
                e.adapterPerplexity(),
                e.numPrompts()));
        if (e.base() != null && e.adapter() != null) {
          out.println(
              String.format(
                  Locale.ROOT,
                  "  scores   ROUGE-L %.3f -> %.3f, token F1 %.3f -> %.3f, exact match %.3f -> %.3f",
                  e.base().rougeL(),
                  e.adapter().rougeL(),
                  e.base().tokenF1(),
                  e.adapter().tokenF1(),
                  e.base().exactMatch(),
                  e.adapter().exactMatch()));
        }
        var seen = e.seen();
        if (seen != null && seen.base() != null && seen.adapter() != null) {
          out.println(
              String.format(
                  Locale.ROOT,
                  "  seen     loss %.4f -> %.4f, ROUGE-L %.3f -> %.3f, token F1 %.3f -> %.3f,"
                      + " exact match %.3f -> %.3f, %d training questions",
                  seen.baseLoss(),
                  seen.adapterLoss(),
                  seen.base().rougeL(),
                  seen.adapter().rougeL(),
                  seen.base().tokenF1(),
                  seen.adapter().tokenF1(),
                  seen.base().exactMatch(),
                  seen.adapter().exactMatch(),
                  seen.numPrompts()));
        }
      }
      RegistrationResult reg = r.registration();
      if (reg != null) {
        out.println(
            "  registry "
                + reg.modelName()
                + " version "
                + reg.version()
                + (reg.aliases().isEmpty() ? "" : " " + reg.aliases()));
        out.println("  promotion " + promotion(r));
      }
    }
    printLinks(v.links(), out);
  }

  /**
   * Why this version is or is not the champion: the registration's own decision (the promotion
   * policy's sentence, naming both eval losses and the held-out set), else what the result shows.
   */
  static String promotion(FineTuneResult r) {
    RegistrationResult reg = r.registration();
    if (!reg.decision().isBlank()) {
      return (reg.promoted() ? "new champion: " : "not promoted: ")
          + Numbers.roundIn(reg.decision());
    }
    if (reg.promoted()) {
      return "new champion: " + reg.modelName() + "@champion is version " + reg.version();
    }
    if (r.spec() != null && r.spec().registry() != null && !r.spec().registry().promote()) {
      return "not promoted: promotion is off for this run (registry.promote: false)";
    }
    EvalResult e = r.eval();
    if (e != null && !(e.adapterEvalLoss() < e.baseEvalLoss())) {
      return String.format(
          Locale.ROOT,
          "not promoted: adapter eval loss %.3f does not beat the base model's %.3f",
          e.adapterEvalLoss(),
          e.baseEvalLoss());
    }
    return "not promoted: the current champion of "
        + reg.modelName()
        + " stays (its eval loss is not beaten, or it was set by hand)";
  }

  static void printLinks(RunLinks links, PrintStream out) {
    if (links == null) {
      return;
    }
    if (links.temporalUi() != null) {
      out.println("  Temporal " + links.temporalUi());
    }
    if (links.mlflowRun() != null) {
      out.println("  MLflow   " + links.mlflowRun());
    }
    if (links.minioConsole() != null) {
      out.println("  MinIO    " + links.minioConsole());
    }
  }
}
