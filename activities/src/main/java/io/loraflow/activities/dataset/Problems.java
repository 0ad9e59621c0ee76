package io.loraflow.activities.dataset;

import java.util.ArrayList;
import java.util.List;

/** Collects record-precise problems and fails once with all of them (up to a limit). */
final class Problems {
  private final String source;
  private final int max;
  private final List<String> listed = new ArrayList<>();
  private int count;

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
