package io.loraflow.activities.dataset;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks parsed pairs and removes repeats.
 *
 * <p>Rejected (InvalidDataset, every problem with its record and line): no records, a blank
 * question or answer, a field longer than the limit, and a question asked twice with different
 * answers (the data contradicts itself; keep one). Removed and counted: exact repeats, i.e. a
 * question (compared case-folded with whitespace collapsed) asked again with the same answer; the
 * first occurrence is kept.
 */
public final class DatasetValidator {

  /** What survives validation. */
  public record Result(List<QaPair> pairs, int duplicatesRemoved) {}

  private final int maxFieldChars;
  private final int maxErrors;

  public DatasetValidator(int maxFieldChars, int maxErrors) {
    this.maxFieldChars = maxFieldChars;
    this.maxErrors = maxErrors;
  }

  public Result validate(List<QaPair> pairs, String source) {
    Problems problems = new Problems(source, maxErrors);
    Result result = validate(pairs, source, problems);
    problems.throwIfAny();
    return result;
  }

  /** Validates, adding problems to those the parser found; the caller throws. */
  Result validate(List<QaPair> pairs, String source, Problems problems) {
    if (pairs.isEmpty() && problems.isEmpty()) {
      throw DatasetException.invalid(
          "dataset '"
              + source
              + "' has no records; add at least one {\"question\": ..., \"answer\": ...}");
    }
    Map<String, QaPair> firstByQuestion = new HashMap<>();
    List<QaPair> kept = new ArrayList<>();
    int duplicates = 0;
    for (QaPair p : pairs) {
      boolean ok = check(p, "question", p.question(), problems);
      ok &= check(p, "answer", p.answer(), problems);
      if (!ok) {
        continue;
      }
      String key = questionKey(p.question());
      QaPair first = firstByQuestion.putIfAbsent(key, p);
      if (first == null) {
        kept.add(p);
      } else if (first.answer().equals(p.answer())) {
        duplicates++;
      } else {
        problems.add(
            p.record(),
            p.line(),
            "question repeats "
                + first.where()
                + " with a different answer; keep one answer per question");
      }
    }
    return new Result(List.copyOf(kept), duplicates);
  }

  private boolean check(QaPair p, String field, String value, Problems problems) {
    if (value.isBlank()) {
      problems.add(p.record(), p.line(), "field \"" + field + "\" is blank");
      return false;
    }
    if (value.length() > maxFieldChars) {
      problems.add(
          p.record(),
          p.line(),
          "field \""
              + field
              + "\" is "
              + value.length()
              + " characters, over the "
              + maxFieldChars
              + "-character limit; shorten or split it");
      return false;
    }
    return true;
  }

  /** Case-folded, whitespace-collapsed question: what counts as "the same question". */
  static String questionKey(String question) {
    return question.strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
  }
}
