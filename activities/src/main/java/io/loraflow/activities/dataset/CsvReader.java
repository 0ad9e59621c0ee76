package io.loraflow.activities.dataset;

import java.util.ArrayList;
import java.util.List;

/**
 * RFC 4180 CSV: comma-separated fields, optional double quotes around a field, "" for a quote
 * inside quotes, CRLF or LF line ends, newlines allowed inside quoted fields.
 */
final class CsvReader {

  /** One record and the 1-based line it starts on. */
  record Row(List<String> fields, int line) {}

  private CsvReader() {}

  static List<Row> read(String text, String source) {
    List<Row> rows = new ArrayList<>();
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    int line = 1; // current physical line
    int rowLine = 1; // line where the current record started
    boolean atFieldStart = true;
    int i = 0;
    int n = text.length();
    while (i < n) {
      char c = text.charAt(i);
      if (atFieldStart && c == '"') {
        int quoteLine = line;
        i++;
        while (true) {
          if (i >= n) {
            throw DatasetException.invalid(
                "dataset '"
                    + source
                    + "': CSV quote opened on line "
                    + quoteLine
                    + " is never closed; close it or write inner quotes as \"\"");
          }
          char q = text.charAt(i++);
          if (q == '"') {
            if (i < n && text.charAt(i) == '"') {
              field.append('"');
              i++;
              continue;
            }
            break;
          }
          if (q == '\n') {
            line++;
          }
          field.append(q);
        }
        atFieldStart = false;
        if (i < n && text.charAt(i) != ',' && text.charAt(i) != '\n' && text.charAt(i) != '\r') {
          throw DatasetException.invalid(
              "dataset '"
                  + source
                  + "': CSV line "
                  + line
                  + " has text after a closing quote; quote the whole field and write inner"
                  + " quotes as \"\"");
        }
      } else if (c == ',') {
        fields.add(field.toString());
        field.setLength(0);
        atFieldStart = true;
        i++;
      } else if (c == '\r' || c == '\n') {
        i += c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n' ? 2 : 1;
        fields.add(field.toString());
        field.setLength(0);
        boolean blankLine = fields.size() == 1 && fields.get(0).isEmpty();
        if (!blankLine) {
          rows.add(new Row(List.copyOf(fields), rowLine));
        }
        fields.clear();
        atFieldStart = true;
        line++;
        rowLine = line;
      } else if (c == '"') {
        throw DatasetException.invalid(
            "dataset '"
                + source
                + "': CSV line "
                + line
                + " has a quote inside an unquoted field; quote the field and write the quote"
                + " as \"\"");
      } else {
        field.append(c);
        atFieldStart = false;
        i++;
      }
    }
    if (!fields.isEmpty() || field.length() > 0 || !atFieldStart) {
      fields.add(field.toString());
      rows.add(new Row(List.copyOf(fields), rowLine));
    }
    return rows;
  }
}
