package io.loraflow.activities.prompts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Training text is data: a question or answer must not contain the template's role markers (e.g.
 * {@code <assistant>:}) or the tokenizer's special tokens (e.g. {@code <|im_end|>}), or one record
 * could forge extra conversation turns that the model is then trained on. {@link Mode#ESCAPE}
 * (default) breaks each occurrence with a WORD JOINER (U+2060) after its first character, so the
 * text reads the same but neither the template nor the tokenizer can match it; {@link Mode#REJECT}
 * fails the run with a message naming the record, the field and the marker.
 */
public final class TrainingTextGuard {

  /** What to do with a marker inside training text. */
  public enum Mode {
    ESCAPE,
    REJECT;

    /** {@code escape} or {@code reject} (case-insensitive); null or blank = escape. */
    public static Mode parse(String text) {
      if (text == null || text.isBlank()) {
        return ESCAPE;
      }
      for (Mode m : values()) {
        if (m.name().equalsIgnoreCase(text.strip())) {
          return m;
        }
      }
      throw new IllegalArgumentException(ENV + " must be escape or reject, got '" + text + "'");
    }
  }

  /** Worker setting: {@code escape} (default) or {@code reject}. */
  public static final String ENV = "LORAFLOW_TRAINING_TEXT_MARKERS";

  /** Inserted after the first character of a marker. */
  static final String BREAK = "\u2060";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Mode mode;
  private final List<String> markers; // longest first, so "<|im_start|>" wins over "<|"
  private final Set<String> escapedRecords = new LinkedHashSet<>();

  public TrainingTextGuard(Mode mode, List<String> markers) {
    this.mode = mode;
    List<String> m = new ArrayList<>(new LinkedHashSet<>(markers));
    m.removeIf(s -> s.codePointCount(0, s.length()) < 2);
    m.sort(Comparator.comparingInt(String::length).reversed());
    this.markers = List.copyOf(m);
  }

  /** The markers of {@code template} and the special tokens of {@code tokenizerJson}. */
  public static TrainingTextGuard of(Mode mode, PromptTemplate template, Path tokenizerJson)
      throws IOException {
    List<String> markers = new ArrayList<>(templateMarkers(template));
    markers.addAll(specialTokens(JSON.readTree(tokenizerJson.toFile())));
    return new TrainingTextGuard(mode, markers);
  }

  /**
   * The non-blank lines of the template's prefix and infix, trimmed: "<human>:", "<assistant>:".
   */
  static List<String> templateMarkers(PromptTemplate t) {
    List<String> out = new ArrayList<>();
    for (String part : new String[] {t.prefix(), t.infix()}) {
      for (String line : part.split("\n")) {
        if (!line.isBlank()) {
          out.add(line.strip());
        }
      }
    }
    return out;
  }

  /** Contents of the tokenizer's added tokens marked special (what it matches in raw text). */
  static List<String> specialTokens(JsonNode tokenizer) {
    List<String> out = new ArrayList<>();
    for (JsonNode t : tokenizer.path("added_tokens")) {
      if (t.path("special").asBoolean(false) && !t.path("content").asText("").isEmpty()) {
        out.add(t.path("content").asText());
      }
    }
    return out;
  }

  public List<String> markers() {
    return markers;
  }

  /** Records that had a marker escaped ("record 3 answer"), in order. */
  public List<String> escapedRecords() {
    return List.copyOf(escapedRecords);
  }

  /**
   * The text to train on.
   *
   * @param where e.g. "record 3 (line 5)"
   * @param field "question" or "answer"
   * @throws IllegalArgumentException in reject mode, naming the record, the field and the marker
   */
  public String clean(String where, String field, String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String out = text;
    for (String marker : markers) {
      int at = indexOfIgnoringCase(out, marker);
      if (at < 0) {
        continue;
      }
      if (mode == Mode.REJECT) {
        throw new IllegalArgumentException(
            where
                + ": the "
                + field
                + " contains '"
                + marker
                + "', a role marker or special token of the prompt format; training text must"
                + " not forge conversation structure. Remove it from the dataset, or set "
                + ENV
                + "=escape on the CPU worker to escape such text");
      }
      out = escape(out, marker);
      escapedRecords.add(where + " " + field);
    }
    return out;
  }

  /** Inserts {@link #BREAK} after the first character of every occurrence (any case). */
  static String escape(String text, String marker) {
    StringBuilder sb = new StringBuilder(text.length() + 8);
    int from = 0;
    for (int at; (at = indexOfIgnoringCase(text, marker, from)) >= 0; ) {
      int second = text.offsetByCodePoints(at, 1);
      sb.append(text, from, second).append(BREAK);
      from = second;
    }
    return sb.append(text, from, text.length()).toString();
  }

  private static int indexOfIgnoringCase(String text, String marker) {
    return indexOfIgnoringCase(text, marker, 0);
  }

  private static int indexOfIgnoringCase(String text, String marker, int from) {
    String lower = text.toLowerCase(Locale.ROOT);
    if (lower.length() == text.length()) {
      return lower.indexOf(marker.toLowerCase(Locale.ROOT), from);
    }
    for (int i = from; i + marker.length() <= text.length(); i++) { // lowercasing changed lengths
      if (text.regionMatches(true, i, marker, 0, marker.length())) {
        return i;
      }
    }
    return -1;
  }
}
