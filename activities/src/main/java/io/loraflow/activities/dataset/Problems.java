package io.loraflow.activities.dataset;

import java.util.ArrayList;
import java.util.List;

/** Collects record-precise problems and fails once with all of them (up to a limit). */
final class Problems {
  private final String source;
  private final int max;
  private final List<String> listed = new ArrayList<>();
  private int count;

  /**
   * True for a dataset fetched from another server (http, https, the hub): messages then name
   * fields and record numbers but never its content (keys, values), so that a fetch cannot be used
   * to read a server's answer through the error.
   */
  boolean remote() {
    return isRemote(source);
  }

  static boolean isRemote(String source) {
    String s = source == null ? "" : source.strip().toLowerCase(java.util.Locale.ROOT);
    return s.startsWith("http:") || s.startsWith("https:") || s.startsWith("hf:");
  }

  Problems(String source, int max) {
    this.source = source;
    this.max = max;
  }

  void add(int record, int line, String message) {
    add(QaPair.where(record, line) + ": " + message);
  }

  void add(String message) {
    count++;
    if (listed.size() < max) {
      listed.add(message);
    }
  }

  boolean isEmpty() {
    return count == 0;
  }

  /** Throws an InvalidDataset failure listing the problems, if there are any. */
  void throwIfAny() {
    if (count == 0) {
      return;
    }
    StringBuilder sb = new StringBuilder("dataset '").append(source).append("' has ");
    sb.append(count).append(count == 1 ? " problem: " : " problems: ");
    sb.append(String.join("; ", listed));
    if (count > listed.size()) {
      sb.append("; ... and ").append(count - listed.size()).append(" more");
    }
    throw DatasetException.invalid(sb.toString());
  }
}
