package io.loraflow.cli;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Numbers for people: a loss is {@code 3.302}, not {@code 3.30203914642334}. Used on the numbers
 * this CLI formats and on free text that arrives from the run (phase notes, failure messages).
 */
final class Numbers {

  /**
   * A decimal with four or more fraction digits standing alone (not part of a version such as
   * {@code 2.7.1}, a host name or an identifier), optionally with an exponent.
   */
  private static final Pattern LONG_DECIMAL =
      Pattern.compile("(?<![\\w.])-?\\d+\\.\\d{4,}(?:[eE][-+]?\\d+)?(?![\\w.]*\\w)");

  private Numbers() {}

  /** {@code 3.302}; small values keep three significant digits ({@code 2.00e-04}). */
  static String round(double x) {
    if (!Double.isFinite(x)) {
      return Double.isNaN(x) ? "nan" : (x > 0 ? "inf" : "-inf");
    }
    if (x != 0 && Math.abs(x) < 0.001) {
      return String.format(Locale.ROOT, "%.2e", x);
    }
    return String.format(Locale.ROOT, "%.3f", x);
  }

  /**
   * A rate such as a learning rate, with its three significant digits kept and trailing zeros
   * dropped: {@code 0.0025}, {@code 0.001}, {@code 0.0002}. {@link #round(double)} would show
   * 2.5e-3 as {@code 0.003}, one digit, so two grid values could look the same or wrong.
   */
  static String rate(double x) {
    if (!Double.isFinite(x)) {
      return round(x);
    }
    if (x == 0) {
      return "0";
    }
    return new BigDecimal(x).round(new MathContext(3)).stripTrailingZeros().toPlainString();
  }

  /** {@code text} with every long decimal rounded by {@link #round(double)}. */
  static String roundIn(String text) {
    if (text == null) {
      return null;
    }
    Matcher m = LONG_DECIMAL.matcher(text);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(b, Matcher.quoteReplacement(round(Double.parseDouble(m.group()))));
    }
    m.appendTail(b);
    return b.toString();
  }
}
