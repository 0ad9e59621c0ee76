package io.loraflow.activities.dataset;

/**
 * One question/answer example and where it came from.
 *
 * @param question the question (trimmed, CRLF normalized to LF)
 * @param answer the answer (same normalization)
 * @param record 1-based record number in the source (data row for CSV, array element or line for
 *     JSON/JSONL)
 * @param line 1-based line in the source where the record starts
 */
public record QaPair(String question, String answer, int record, int line) {

  /** "record 3 (line 5)", for messages. */
  public String where() {
    return where(record, line);
  }

  static String where(int record, int line) {
    return "record " + record + " (line " + line + ")";
  }
}
