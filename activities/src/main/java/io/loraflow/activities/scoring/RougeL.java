package io.loraflow.activities.scoring;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * ROUGE-L as Google's {@code rouge-score} package computes it without stemming: lowercase, every
 * run of characters outside [a-z0-9] becomes a space, tokens are the remaining [a-z0-9]+ words;
 * precision = LCS / |prediction|, recall = LCS / |reference|, F = 2PR / (P + R), all 0 when either
 * side has no tokens.
 */
public final class RougeL {

  private static final Pattern NON_ALNUM = Pattern.compile("[^a-z0-9]+");

  /** Precision, recall and F-measure in [0, 1]. */
  public record Score(double precision, double recall, double fmeasure) {}

  private RougeL() {}

  /** rouge-score's tokenizer (no stemmer). */
  public static List<String> tokenize(String text) {
    String lowered = NON_ALNUM.matcher(text.toLowerCase(Locale.ROOT)).replaceAll(" ");
    List<String> tokens = new ArrayList<>();
    for (String t : lowered.split("\\s+")) {
      if (!t.isEmpty()) {
        tokens.add(t);
      }
    }
    return tokens;
  }

  /**
   * Scores {@code prediction} against {@code reference} (rouge-score's score(target, prediction)).
   */
  public static Score score(String reference, String prediction) {
    List<String> ref = tokenize(reference);
    List<String> pred = tokenize(prediction);
    if (ref.isEmpty() || pred.isEmpty()) {
      return new Score(0, 0, 0);
    }
    int lcs = lcsLength(ref, pred);
    double precision = (double) lcs / pred.size();
    double recall = (double) lcs / ref.size();
    double f = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    return new Score(precision, recall, f);
  }

  /** Longest common subsequence length, O(|a|·|b|) time, O(|b|) memory. */
  static int lcsLength(List<String> a, List<String> b) {
    int[] prev = new int[b.size() + 1];
    int[] cur = new int[b.size() + 1];
    for (String x : a) {
      for (int j = 1; j <= b.size(); j++) {
        cur[j] = x.equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.size()];
  }
}
