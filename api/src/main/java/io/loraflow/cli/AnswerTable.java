package io.loraflow.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * The before/after table of the demo: held-out questions with the reference answer, the base
 * model's answer and the adapter's answer, wrapped into columns that fit the terminal. Pure.
 */
public final class AnswerTable {

  /** One held-out question. */
  public record Row(String question, String reference, String base, String adapter) {}

  private AnswerTable() {}

  /**
   * Rows from an evaluation report (the JSON at {@code EvalResult.reportJsonKey}): the first array
   * of objects that carry a question and both answers. Key names are matched loosely
   * (question/prompt, reference/expected/answer, base.../adapter...), so the table survives small
   * changes of the report's shape; nothing found gives an empty list.
   */
  public static List<Row> rowsOf(JsonNode report) {
    List<Row> rows = new ArrayList<>();
    JsonNode array = findRows(report);
    if (array == null) {
      return rows;
    }
    for (JsonNode item : array) {
      rows.add(
          new Row(
              text(item, "question", "prompt", "instruction"),
              text(item, "reference", "expected", "answer", "target"),
              text(item, "baseAnswer", "base_answer", "base", "before"),
              text(item, "adapterAnswer", "adapter_answer", "adapter", "tuned", "after")));
    }
    return rows;
  }

  /**
   * Renders at most {@code maxRows} rows in {@code width} columns: the question on its own line,
   * then reference, base and adapter side by side, each wrapped to {@code maxLines} lines.
   */
  public static String render(List<Row> rows, int width, int maxRows, int maxLines) {
    int col = Math.max(12, (width - 2 - 3 * 3) / 3);
    StringBuilder b = new StringBuilder();
    String rule = "-".repeat(Math.min(width, 3 * col + 9));
    b.append(pad("reference", col))
        .append(" | ")
        .append(pad("base model", col))
        .append(" | ")
        .append("with adapter")
        .append('\n')
        .append(rule)
        .append('\n');
    int shown = 0;
    for (Row r : rows) {
      if (shown++ == maxRows) {
        break;
      }
      b.append(cut("Q: " + oneLine(r.question()), width)).append('\n');
      List<String> ref = wrap(r.reference(), col, maxLines);
      List<String> base = wrap(r.base(), col, maxLines);
      List<String> adapter = wrap(r.adapter(), col, maxLines);
      int lines = Math.max(ref.size(), Math.max(base.size(), adapter.size()));
      for (int i = 0; i < lines; i++) {
        b.append(pad(at(ref, i), col))
            .append(" | ")
            .append(pad(at(base, i), col))
            .append(" | ")
            .append(at(adapter, i))
            .append('\n');
      }
      b.append(rule).append('\n');
    }
    return b.toString();
  }

  /** Greedy word wrap; the last line ends in "…" when text was left out. */
  static List<String> wrap(String text, int width, int maxLines) {
    List<String> lines = new ArrayList<>();
    StringBuilder line = new StringBuilder();
    String[] words = oneLine(text).split(" ");
    for (int i = 0; i < words.length; i++) {
      String w = words[i].length() > width ? words[i].substring(0, width) : words[i];
      if (line.length() > 0 && line.length() + 1 + w.length() > width) {
        lines.add(line.toString());
        line.setLength(0);
        if (lines.size() == maxLines) {
          String last = lines.get(maxLines - 1);
          lines.set(
              maxLines - 1, (last.length() >= width ? last.substring(0, width - 1) : last) + "…");
          return lines;
        }
      }
      if (line.length() > 0) {
        line.append(' ');
      }
      line.append(w);
    }
    if (line.length() > 0 || lines.isEmpty()) {
      lines.add(line.toString());
    }
    return lines;
  }

  private static JsonNode findRows(JsonNode node) {
    if (node == null) {
      return null;
    }
    if (node.isArray() && node.size() > 0 && node.get(0).isObject() && looksLikeRow(node.get(0))) {
      return node;
    }
    Iterator<JsonNode> children = node.elements();
    while (children.hasNext()) {
      JsonNode found = findRows(children.next());
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  private static boolean looksLikeRow(JsonNode o) {
    return text(o, "question", "prompt", "instruction") != null
        && text(o, "baseAnswer", "base_answer", "base", "before") != null
        && text(o, "adapterAnswer", "adapter_answer", "adapter", "tuned", "after") != null;
  }

  private static String text(JsonNode o, String... keys) {
    for (String k : keys) {
      java.util.Iterator<String> names = o.fieldNames();
      while (names.hasNext()) {
        String name = names.next();
        if (name.toLowerCase(Locale.ROOT).equals(k.toLowerCase(Locale.ROOT))
            && o.get(name).isTextual()) {
          return o.get(name).asText();
        }
      }
    }
    return null;
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s+", " ").strip();
  }

  private static String at(List<String> lines, int i) {
    return i < lines.size() ? lines.get(i) : "";
  }

  private static String pad(String s, int n) {
    return s.length() >= n ? s.substring(0, n) : s + " ".repeat(n - s.length());
  }

  private static String cut(String s, int n) {
    return s.length() <= n ? s : s.substring(0, n - 1) + "…";
  }
}
