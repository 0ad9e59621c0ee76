package io.loraflow.gpu;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JVM's committed native memory from {@code jcmd <pid> VM.native_memory summary.diff} (Native
 * Memory Tracking against a baseline): the total and each category's change, in KB.
 *
 * @param committedKb committed now, all categories
 * @param committedDeltaKb the change since the baseline
 * @param deltasKb each category's committed change since the baseline, in the report's order
 */
record NmtDiff(long committedKb, long committedDeltaKb, Map<String, Long> deltasKb) {

  // "Total: reserved=1613880KB +1200KB, committed=297924KB +1840KB"
  private static final Pattern TOTAL =
      Pattern.compile(
          "Total: reserved=\\d+KB(?: [+-]\\d+KB)?, committed=(\\d+)KB(?: ([+-]\\d+)KB)?");

  // "-                     Class (reserved=1083466KB +2KB, committed=18250KB +2KB)"
  private static final Pattern CATEGORY =
      Pattern.compile(
          "^-\\s+(.+?) \\(reserved=\\d+KB(?: [+-]\\d+KB)?, committed=\\d+KB(?: ([+-]\\d+)KB)?\\)",
          Pattern.MULTILINE);

  static NmtDiff parse(String report) {
    Matcher t = TOTAL.matcher(report);
    if (!t.find()) {
      throw new IllegalArgumentException(
          "not an NMT summary.diff (is -XX:NativeMemoryTracking on and a baseline taken?): "
              + report.lines().limit(3).toList());
    }
    Map<String, Long> deltas = new LinkedHashMap<>();
    Matcher c = CATEGORY.matcher(report);
    while (c.find()) {
      deltas.put(c.group(1).trim(), c.group(2) == null ? 0 : Long.parseLong(c.group(2)));
    }
    return new NmtDiff(
        Long.parseLong(t.group(1)), t.group(2) == null ? 0 : Long.parseLong(t.group(2)), deltas);
  }

  /** The {@code n} categories that changed most, e.g. "[Code +3 MB, Class +1 MB]". */
  String largestChanges(int n) {
    List<Map.Entry<String, Long>> e = new ArrayList<>(deltasKb.entrySet());
    e.sort(Comparator.comparingLong((Map.Entry<String, Long> x) -> -Math.abs(x.getValue())));
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Long> x : e.subList(0, Math.min(n, e.size()))) {
      out.add(String.format("%s %+d KB", x.getKey(), x.getValue()));
    }
    return out.toString();
  }
}
