package io.loraflow.gpu;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.loraflow.workflows.EvalResult;
import io.loraflow.workflows.Scores;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The evaluation report: the summary ({@link EvalResult}) and, per eval prompt (held-out, then
 * seen: sampled training questions), the question, the reference, both answers and their scores.
 * Written as JSON (for machines, and to make evaluate idempotent: an existing report is the result)
 * and HTML (for people, in MLflow and MinIO).
 */
record EvalReport(
    String runId, String baseModel, EvalResult result, List<Row> rows, List<Row> seenRows) {

  EvalReport {
    seenRows = seenRows == null ? List.of() : List.copyOf(seenRows);
  }

  /** A held-out-only report. */
  EvalReport(String runId, String baseModel, EvalResult result, List<Row> rows) {
    this(runId, baseModel, result, rows, List.of());
  }

  /** One eval prompt: both greedy answers (same prompt, same settings) and their scores. */
  record Row(
      String question,
      String reference,
      String baseAnswer,
      String adapterAnswer,
      Scores baseScores,
      Scores adapterScores) {}

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize the eval report of " + runId, e);
    }
  }

  static EvalReport fromJson(byte[] json) throws IOException {
    return JSON.readValue(json, EvalReport.class);
  }

  byte[] toHtml() {
    StringBuilder h = new StringBuilder();
    h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>loraflow eval ")
        .append(esc(runId))
        .append("</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:")
        .append("collapse}td,th{border:1px solid #ccc;padding:6px;vertical-align:top;")
        .append("max-width:28em}th{background:#f3f3f3}.num{text-align:right}</style></head><body>");
    h.append("<h1>Evaluation of ").append(esc(runId)).append("</h1>");
    h.append("<p>Base model: <code>").append(esc(baseModel)).append("</code></p>");
    h.append("<table><tr><th></th><th>base</th><th>adapter</th></tr>");
    row(h, "eval loss", result.baseEvalLoss(), result.adapterEvalLoss());
    row(h, "perplexity", result.basePerplexity(), result.adapterPerplexity());
    row(h, "ROUGE-L", result.base().rougeL(), result.adapter().rougeL());
    row(h, "token F1", result.base().tokenF1(), result.adapter().tokenF1());
    row(h, "exact match", result.base().exactMatch(), result.adapter().exactMatch());
    h.append("</table>");
    h.append("<p>Relative eval-loss change: ")
        .append(String.format("%+.1f%%", 100 * result.relativeLossChange()))
        .append("; ")
        .append(result.numPrompts())
        .append(" prompts answered greedily by each.</p>");
    var seen = result.seen();
    if (seen != null) {
      h.append("<h2>Seen questions (a sample of the training set)</h2>")
          .append("<table><tr><th></th><th>base</th><th>adapter</th></tr>");
      row(h, "loss", seen.baseLoss(), seen.adapterLoss());
      row(h, "ROUGE-L", seen.base().rougeL(), seen.adapter().rougeL());
      row(h, "token F1", seen.base().tokenF1(), seen.adapter().tokenF1());
      row(h, "exact match", seen.base().exactMatch(), seen.adapter().exactMatch());
      h.append("</table><p>").append(seen.numPrompts()).append(" training questions.</p>");
    }
    answers(h, "Held-out answers", rows);
    if (!seenRows.isEmpty()) {
      answers(h, "Seen answers (training questions)", seenRows);
    }
    h.append("</body></html>\n");
    return h.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void answers(StringBuilder h, String title, List<Row> rows) {
    h.append("<h2>")
        .append(esc(title))
        .append("</h2><table><tr><th>#</th><th>question</th><th>reference</th>")
        .append("<th>base</th><th>adapter</th><th>ROUGE-L base → adapter</th></tr>");
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      h.append("<tr><td>")
          .append(i + 1)
          .append("</td><td>")
          .append(esc(r.question()))
          .append("</td><td>")
          .append(esc(r.reference()))
          .append("</td><td>")
          .append(esc(r.baseAnswer()))
          .append("</td><td>")
          .append(esc(r.adapterAnswer()))
          .append("</td><td class=\"num\">")
          .append(String.format("%.3f → %.3f", r.baseScores().rougeL(), r.adapterScores().rougeL()))
          .append("</td></tr>");
    }
    h.append("</table>");
  }

  private static void row(StringBuilder h, String name, double base, double adapter) {
    h.append("<tr><td>")
        .append(name)
        .append("</td><td class=\"num\">")
        .append(String.format("%.4f", base))
        .append("</td><td class=\"num\">")
        .append(String.format("%.4f", adapter))
        .append("</td></tr>");
  }

  static String esc(String s) {
    if (s == null) {
      return "";
    }
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("\n", "<br>");
  }
}
