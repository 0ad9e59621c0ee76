package io.loraflow.activities.dataset;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Parses dataset text into question/answer pairs.
 *
 * <p>Containers: the reference nested JSON {@code {"questions":[{"question":..,"answer":..}]}}, a
 * top-level JSON array of records, JSONL (one record per line) and CSV (RFC 4180, a header row with
 * "question" and "answer" columns, others ignored). Record shapes inside JSON/JSONL:
 *
 * <ul>
 *   <li>question/answer: {@code {"question": "...", "answer": "..."}}
 *   <li>alpaca: {@code {"instruction": "...", "input": "...", "output": "..."}} → question =
 *       instruction, plus a blank line and the input when the input is not blank; answer = output
 *   <li>chat: {@code {"messages": [{"role": "user", "content": ...}, {"role": "assistant", ...}]}}
 *       → one pair per user turn directly followed by an assistant turn; system turns are ignored
 * </ul>
 *
 * Format "auto" picks the container from the file extension (.csv, .jsonl/.ndjson) or the content,
 * and the shape of every record from its keys. Strings are trimmed and CRLF becomes LF.
 */
public final class DatasetParser {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final int maxErrors;

  public DatasetParser(int maxErrors) {
    this.maxErrors = maxErrors;
  }

  /** Placeholder node of a JSONL line that did not parse (already reported). */
  private static final JsonNode MALFORMED =
      com.fasterxml.jackson.databind.node.MissingNode.getInstance();

  /** A JSON record and where it starts. */
  private record JsonRecord(JsonNode node, int index, int line) {}

  private enum Shape {
    AUTO,
    QA,
    ALPACA,
    CHAT
  }

  /**
   * @param text the decoded dataset
   * @param format "auto", "nested-json", "jsonl", "csv", "alpaca" or "chat"
   * @param name file name (for the extension), may be empty
   * @param source the URI, for messages
   */
  public ParsedDataset parse(String text, String format, String name, String source) {
    Problems problems = new Problems(source, maxErrors);
    ParsedDataset parsed = parse(text, format, name, source, problems);
    problems.throwIfAny();
    return parsed;
  }

  /** Parses, adding record problems to {@code problems} (structural errors still throw). */
  ParsedDataset parse(String text, String format, String name, String source, Problems problems) {
    if (text.isBlank()) {
      throw DatasetException.invalid(
          "dataset '"
              + source
              + "' is empty; expected {\"questions\":[{\"question\":...,\"answer\":...}]}, JSONL"
              + " or CSV");
    }
    String lowerName = name == null ? "" : name.toLowerCase(Locale.ROOT);
    return switch (format) {
      case "nested-json" ->
          fromJson(source, readNested(text, source, true), Shape.QA, "nested-json", problems);
      case "jsonl" ->
          fromJson(source, readJsonl(text, source, problems), Shape.AUTO, "jsonl", problems);
      case "csv" -> fromCsv(text, source, problems);
      case "alpaca", "chat" -> {
        Shape shape = format.equals("alpaca") ? Shape.ALPACA : Shape.CHAT;
        boolean array = firstChar(text) == '[';
        yield fromJson(
            source,
            array ? readNested(text, source, false) : readJsonl(text, source, problems),
            shape,
            (array ? "json-array+" : "jsonl+") + format,
            problems);
      }
      case "auto" -> auto(text, lowerName, source, problems);
      default ->
          throw DatasetException.invalid(
              "unknown dataset format '"
                  + format
                  + "'; use auto, nested-json, jsonl, csv, alpaca or chat");
    };
  }

  private ParsedDataset auto(String text, String lowerName, String source, Problems problems) {
    if (lowerName.endsWith(".csv")) {
      return fromCsv(text, source, problems);
    }
    if (lowerName.endsWith(".jsonl") || lowerName.endsWith(".ndjson")) {
      return fromJson(source, readJsonl(text, source, problems), Shape.AUTO, "jsonl", problems);
    }
    char first = firstChar(text);
    if (first == '[') {
      return fromJson(source, readNested(text, source, false), Shape.AUTO, "json-array", problems);
    }
    if (first == '{') {
      String firstLine = text.strip().lines().findFirst().orElse("");
      boolean moreLines = text.strip().lines().skip(1).anyMatch(l -> !l.isBlank());
      if (moreLines && isJsonObject(firstLine)) {
        return fromJson(source, readJsonl(text, source, problems), Shape.AUTO, "jsonl", problems);
      }
      if (!moreLines && isJsonRecord(firstLine)) {
        return fromJson(
            source,
            readJsonl(text, source, problems),
            Shape.AUTO,
            "jsonl",
            problems); // one-line JSONL
      }
      return fromJson(source, readNested(text, source, true), Shape.QA, "nested-json", problems);
    }
    String header = text.strip().lines().findFirst().orElse("").toLowerCase(Locale.ROOT);
    if (header.contains(",") && header.contains("question") && header.contains("answer")) {
      return fromCsv(text, source, problems);
    }
    throw DatasetException.invalid(
        "cannot tell the format of dataset '"
            + source
            + "'"
            + (Problems.isRemote(source) ? "" : " (starts with '" + abbreviate(header, 40) + "')")
            + "; use nested JSON, JSONL, CSV with a question,answer header, or set datasetFormat");
  }

  // ---- JSON containers ----

  /** The whole text is one JSON value: {"questions":[...]} (objectRequired) or [...]. */
  private List<JsonRecord> readNested(String text, String source, boolean objectRequired) {
    List<JsonRecord> records = new ArrayList<>();
    try (JsonParser p = JSON.createParser(text)) {
      JsonToken t = p.nextToken();
      if (t == JsonToken.START_ARRAY && !objectRequired) {
        readArray(p, records);
      } else if (t == JsonToken.START_OBJECT) {
        Set<String> keys = new LinkedHashSet<>();
        boolean found = false;
        for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
          JsonToken value = p.nextToken();
          if (field.equals("questions") && value == JsonToken.START_ARRAY) {
            readArray(p, records);
            found = true;
          } else {
            keys.add(field);
            p.skipChildren();
          }
        }
        if (!found) {
          throw DatasetException.invalid(
              "dataset '"
                  + source
                  + "': the top-level object has no \"questions\" array"
                  + (Problems.isRemote(source) ? "" : " (keys: " + keys + ")")
                  + "; expected {\"questions\":[{\"question\":...,\"answer\":...}]}");
        }
      } else {
        throw DatasetException.invalid(
            "dataset '"
                + source
                + "': expected "
                + (objectRequired ? "a JSON object {\"questions\":[...]}" : "a JSON array")
                + " at line 1, found "
                + t);
      }
      if (p.nextToken() != null) {
        JsonLocation at = p.currentTokenLocation();
        throw DatasetException.invalid(
            String.format(
                "dataset '%s': unexpected content after the JSON value at line %d, column %d;"
                    + " a file of one JSON object per line is JSONL (name it .jsonl)",
                source, at.getLineNr(), at.getColumnNr()));
      }
    } catch (JsonProcessingException e) {
      throw malformed(source, e, records.size());
    } catch (IOException e) {
      throw DatasetException.invalid("dataset '" + source + "': " + e.getMessage());
    }
    return records;
  }

  private static void readArray(JsonParser p, List<JsonRecord> records) throws IOException {
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      if (t == null) {
        throw new com.fasterxml.jackson.core.io.JsonEOFException(p, null, "array is never closed");
      }
      int line = p.currentTokenLocation().getLineNr();
      JsonNode node = JSON.readTree(p);
      records.add(new JsonRecord(node, records.size() + 1, line));
    }
  }

  private List<JsonRecord> readJsonl(String text, String source, Problems problems) {
    List<JsonRecord> records = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line =
          lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
      if (line.isBlank()) {
        continue;
      }
      int index = records.size() + 1;
      try (JsonParser p = JSON.createParser(line)) {
        JsonNode node = JSON.readTree(p);
        if (p.nextToken() != null) {
          problems.add(
              index,
              i + 1,
              "more than one JSON value on the line (column "
                  + p.currentTokenLocation().getColumnNr()
                  + "); JSONL holds one object per line");
        }
        records.add(new JsonRecord(node, index, i + 1));
      } catch (JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        problems.add(
            index,
            i + 1,
            "malformed JSON at column "
                + (at == null ? "?" : at.getColumnNr())
                + ": "
                + e.getOriginalMessage());
        records.add(new JsonRecord(MALFORMED, index, i + 1));
      } catch (IOException e) {
        problems.add(index, i + 1, e.getMessage());
        records.add(new JsonRecord(MALFORMED, index, i + 1));
      }
    }
    return records;
  }

  private static DatasetException malformed(String source, JsonProcessingException e, int done) {
    JsonLocation at = e.getLocation();
    String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    return DatasetException.invalid(
        "dataset '"
            + source
            + "' is malformed JSON"
            + where
            + (done > 0 ? " (after record " + done + ")" : "")
            + ": "
            + (Problems.isRemote(source) ? "not valid JSON" : e.getOriginalMessage()));
  }

  // ---- record shapes ----

  private ParsedDataset fromJson(
      String source, List<JsonRecord> records, Shape forced, String format, Problems problems) {
    List<QaPair> pairs = new ArrayList<>();
    Set<Shape> seen = new LinkedHashSet<>();
    for (JsonRecord r : records) {
      JsonNode n = r.node();
      if (n == MALFORMED) {
        continue; // already reported
      }
      if (n == null || !n.isObject()) {
        problems.add(r.index(), r.line(), "expected a JSON object, got " + kind(n));
        continue;
      }
      Shape shape = forced == Shape.AUTO ? shapeOf(n) : forced;
      seen.add(shape);
      switch (shape) {
        case CHAT -> chat(n, r, problems, pairs);
        case ALPACA -> {
          String instruction = string(n, "instruction", r, problems, true);
          String input = string(n, "input", r, problems, false);
          String output = string(n, "output", r, problems, true);
          if (instruction != null && output != null) {
            String q =
                input == null || input.isBlank() ? instruction : instruction + "\n\n" + input;
            pairs.add(new QaPair(q, output, r.index(), r.line()));
          }
        }
        default -> {
          String q = string(n, "question", r, problems, true);
          String a = string(n, "answer", r, problems, true);
          if (q != null && a != null) {
            pairs.add(new QaPair(q, a, r.index(), r.line()));
          }
        }
      }
    }
    String shapes =
        seen.stream()
            .filter(s -> s != Shape.QA)
            .map(s -> s.name().toLowerCase(Locale.ROOT))
            .reduce((x, y) -> x + "+" + y)
            .orElse("");
    boolean explicitShape = format.contains("+");
    return new ParsedDataset(
        explicitShape || shapes.isEmpty() ? format : format + "+" + shapes, pairs);
  }

  private static Shape shapeOf(JsonNode n) {
    if (n.has("messages")) {
      return Shape.CHAT;
    }
    if (n.has("instruction") || (n.has("output") && !n.has("answer"))) {
      return Shape.ALPACA;
    }
    return Shape.QA;
  }

  private static void chat(JsonNode n, JsonRecord r, Problems problems, List<QaPair> pairs) {
    JsonNode messages = n.get("messages");
    if (messages == null || !messages.isArray()) {
      problems.add(r.index(), r.line(), "field \"messages\" must be an array of {role, content}");
      return;
    }
    String pendingUser = null;
    int found = 0;
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = messages.get(i);
      String role = m.path("role").asText("");
      JsonNode content = m.get("content");
      if (content == null || !content.isTextual()) {
        problems.add(
            r.index(),
            r.line(),
            "messages[" + i + "].content must be a string, got " + kind(content));
        return;
      }
      String text = clean(content.asText());
      switch (role) {
        case "user" -> pendingUser = text;
        case "assistant" -> {
          if (pendingUser != null) {
            pairs.add(new QaPair(pendingUser, text, r.index(), r.line()));
            found++;
          }
          pendingUser = null;
        }
        case "system" -> {}
        default -> {
          problems.add(
              r.index(),
              r.line(),
              "messages[" + i + "].role must be system, user or assistant, got '" + role + "'");
          return;
        }
      }
    }
    if (found == 0) {
      problems.add(
          r.index(), r.line(), "no user message directly followed by an assistant message");
    }
  }

  private static String string(
      JsonNode n, String field, JsonRecord r, Problems problems, boolean required) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        problems.add(
            r.index(),
            r.line(),
            "missing field \""
                + field
                + "\""
                + (problems.remote() ? "" : " (record keys: " + keys(n) + ")"));
      }
      return null;
    }
    if (!v.isTextual()) {
      problems.add(r.index(), r.line(), "field \"" + field + "\" must be a string, got " + kind(v));
      return null;
    }
    return clean(v.asText());
  }

  // ---- CSV ----

  private ParsedDataset fromCsv(String text, String source, Problems problems) {
    List<CsvReader.Row> rows = CsvReader.read(text, source);
    if (rows.isEmpty()) {
      throw DatasetException.invalid("dataset '" + source + "' has no CSV rows");
    }
    List<String> header =
        rows.get(0).fields().stream().map(h -> h.trim().toLowerCase(Locale.ROOT)).toList();
    int q = header.indexOf("question");
    int a = header.indexOf("answer");
    if (q < 0 || a < 0) {
      throw DatasetException.invalid(
          "dataset '"
              + source
              + "': the CSV header "
              + rows.get(0).fields()
              + " needs \"question\" and \"answer\" columns");
    }
    List<QaPair> pairs = new ArrayList<>();
    for (int i = 1; i < rows.size(); i++) {
      CsvReader.Row row = rows.get(i);
      if (row.fields().size() != header.size()) {
        problems.add(
            i,
            row.line(),
            "has "
                + row.fields().size()
                + " fields, the header has "
                + header.size()
                + " (quote fields that contain commas)");
        continue;
      }
      pairs.add(new QaPair(clean(row.fields().get(q)), clean(row.fields().get(a)), i, row.line()));
    }
    return new ParsedDataset("csv", pairs);
  }

  // ---- helpers ----

  static String clean(String s) {
    return s.replace("\r\n", "\n").replace('\r', '\n').strip();
  }

  private static boolean isJsonRecord(String line) {
    try (JsonParser p = JSON.createParser(line)) {
      JsonNode n = JSON.readTree(p);
      return n.isObject()
          && p.nextToken() == null
          && (n.has("question") || n.has("instruction") || n.has("messages") || n.has("output"));
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean isJsonObject(String line) {
    try (JsonParser p = JSON.createParser(line)) {
      return JSON.readTree(p).isObject() && p.nextToken() == null;
    } catch (IOException e) {
      return false;
    }
  }

  private static char firstChar(String text) {
    String s = text.stripLeading();
    return s.isEmpty() ? 0 : s.charAt(0);
  }

  private static String kind(JsonNode n) {
    return n == null ? "nothing" : n.getNodeType().name().toLowerCase(Locale.ROOT);
  }

  private static List<String> keys(JsonNode n) {
    List<String> keys = new ArrayList<>();
    n.fieldNames().forEachRemaining(keys::add);
    return keys;
  }

  private static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "...";
  }
}
