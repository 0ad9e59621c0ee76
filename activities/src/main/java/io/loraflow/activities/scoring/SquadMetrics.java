package io.loraflow.activities.scoring;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Token F1 and exact match as the official SQuAD v2.0 evaluation script defines them: normalize
 * (lowercase, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace), then F1
 * over the bag of tokens; when either side normalizes to nothing, both metrics are 1 if both are
 * empty and 0 otherwise.
 */
public final class SquadMetrics {

  private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  private static final Pattern ARTICLES =
      Pattern.compile("\\b(a|an|the)\\b", Pattern.UNICODE_CHARACTER_CLASS);
  private static final Pattern SPACES = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);

  private SquadMetrics() {}

  /** SQuAD's normalize_answer. */
  public static String normalize(String s) {
    String lower = s.toLowerCase(Locale.ROOT);
    StringBuilder noPunct = new StringBuilder(lower.length());
    lower
        .codePoints()
        .filter(c -> c > 127 || PUNCTUATION.indexOf(c) < 0)
        .forEach(noPunct::appendCodePoint);
    String noArticles = ARTICLES.matcher(noPunct).replaceAll(" ");
    return String.join(" ", tokens(noArticles));
  }

  private static List<String> tokens(String s) {
    String t = s.strip();
    return t.isEmpty() ? List.of() : Arrays.asList(SPACES.split(t));
  }

  /** 1.0 when prediction and reference normalize to the same text, else 0.0. */
  public static double exactMatch(String reference, String prediction) {
    return normalize(reference).equals(normalize(prediction)) ? 1.0 : 0.0;
  }

  /** Harmonic mean of token precision and recall over multisets of normalized tokens. */
  public static double tokenF1(String reference, String prediction) {
    List<String> gold = tokens(normalize(reference));
    List<String> pred = tokens(normalize(prediction));
    if (gold.isEmpty() || pred.isEmpty()) {
      return gold.equals(pred) ? 1.0 : 0.0;
    }
    Map<String, Integer> counts = new HashMap<>();
    for (String g : gold) {
      counts.merge(g, 1, Integer::sum);
    }
    int same = 0;
    for (String p : pred) {
      Integer c = counts.get(p);
      if (c != null && c > 0) {
        same++;
        counts.put(p, c - 1);
      }
    }
    if (same == 0) {
      return 0.0;
    }
    double precision = (double) same / pred.size();
    double recall = (double) same / gold.size();
    return 2 * precision * recall / (precision + recall);
  }
}
