package io.loraflow.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Renders one terminal line of run progress, e.g.
 *
 * <pre>
 * train     [=========>          ]  120/400  30%  loss 1.235  812 tok/s  ETA 3m05s
 * </pre>
 *
 * <p>Pure: no clock, no terminal. The line never exceeds {@code width} columns; when space is
 * short, the least important fields go first (tokens/s, then loss, then the percentage), the bar
 * shrinks down to {@link #MIN_BAR} cells and then disappears, and the rest is cut.
 */
public final class ProgressLine {

  /** Narrowest bar worth drawing (cells between the brackets). */
  static final int MIN_BAR = 10;

  /** Widest bar; beyond this a wider terminal just leaves space. */
  static final int MAX_BAR = 40;

  private static final int PHASE_COLUMN = 9;

  private ProgressLine() {}

  /**
   * One observation of a run.
   *
   * @param phase pipeline phase name, e.g. {@code train}; never null
   * @param step steps done in this phase (0 when not counted)
   * @param total steps in this phase; 0 when the phase has no step count
   * @param loss latest training loss, or null before the first step
   * @param tokensPerSecond training throughput in tokens/s, or null when unknown
   * @param eta estimated time left in this phase, or null when unknown
   * @param note what the run says it is doing (shown for phases without a step count)
   * @param evalLoss latest held-out loss during training, or null (shown after the loss)
   */
  public record Snapshot(
      String phase,
      long step,
      long total,
      Double loss,
      Double tokensPerSecond,
      Duration eta,
      String note,
      Double evalLoss) {
    /** A snapshot without a held-out loss. */
    public Snapshot(
        String phase,
        long step,
        long total,
        Double loss,
        Double tokensPerSecond,
        Duration eta,
        String note) {
      this(phase, step, total, loss, tokensPerSecond, eta, note, null);
    }

    public Snapshot {
      note = note == null ? "" : note.strip();
      if (phase == null || phase.isBlank()) {
        throw new IllegalArgumentException("phase must be named, got '" + phase + "'");
      }
      if (step < 0 || total < 0) {
        throw new IllegalArgumentException("step/total must be >= 0, got " + step + "/" + total);
      }
    }
  }

  /** The line for {@code s}, at most {@code width} columns (width >= 1). */
  public static String render(Snapshot s, int width) {
    if (width < 1) {
      throw new IllegalArgumentException("width must be >= 1, got " + width);
    }
    String phase = padRight(s.phase(), PHASE_COLUMN);
    boolean counted = s.total() > 0;
    String counts = counted ? Math.min(s.step(), s.total()) + "/" + s.total() : "";
    String percent = counted ? percent(s.step(), s.total()) : "";
    String loss =
        (s.loss() == null ? "" : "loss " + formatLoss(s.loss()))
            + (s.evalLoss() == null ? "" : " eval " + formatLoss(s.evalLoss()));
    loss = loss.strip();
    String speed = s.tokensPerSecond() == null ? "" : formatRate(s.tokensPerSecond()) + " tok/s";
    String eta = "ETA " + formatDuration(s.eta());

    // Drop order when space is short: speed, loss, percent. Counts, phase and ETA stay longest.
    List<String> optional = new ArrayList<>(List.of(percent, loss, speed));
    while (true) {
      List<String> tail = new ArrayList<>();
      tail.add(counts);
      tail.addAll(optional);
      tail.add(eta);
      String tailText = join(tail);
      int barRoom = width - phase.length() - 1 - tailText.length() - 2 - 2; // spaces + brackets
      if (!counted) {
        return cut((phase + " " + (s.note().isEmpty() ? "working" : s.note())).strip(), width);
      }
      if (barRoom >= MIN_BAR) {
        return phase + " " + bar(s.step(), s.total(), Math.min(barRoom, MAX_BAR)) + "  " + tailText;
      }
      int drop = lastNonEmpty(optional);
      if (drop < 0) {
        return cut(phase + " " + tailText, width);
      }
      optional.set(drop, "");
    }
  }

  /** {@code 42s}, {@code 3m05s}, {@code 1h02m}, {@code 2d03h}; {@code --} when unknown. */
  public static String formatDuration(Duration d) {
    if (d == null || d.isNegative()) {
      return "--";
    }
    long s = d.toSeconds();
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    if (s < 86_400) {
      return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
    return String.format(Locale.ROOT, "%dd%02dh", s / 86_400, (s % 86_400) / 3600);
  }

  /** {@code 812}, {@code 12.3k}, {@code 1.5M}: three significant figures at most. */
  static String formatRate(double perSecond) {
    if (Double.isNaN(perSecond) || perSecond < 0) {
      return "?";
    }
    if (perSecond < 1000) {
      return perSecond < 10
          ? String.format(Locale.ROOT, "%.1f", perSecond)
          : String.valueOf(Math.round(perSecond));
    }
    if (perSecond < 1_000_000) {
      return String.format(Locale.ROOT, "%.1fk", perSecond / 1000);
    }
    return String.format(Locale.ROOT, "%.1fM", perSecond / 1_000_000);
  }

  /** {@code 3.302}: three decimals are what a person compares between steps. */
  static String formatLoss(double loss) {
    return Double.isFinite(loss) ? String.format(Locale.ROOT, "%.3f", loss) : "nan";
  }

  /** {@code [=====> ]} with {@code cells} cells between the brackets. */
  static String bar(long step, long total, int cells) {
    long done = Math.min(step, total);
    int filled = (int) (done * cells / total);
    StringBuilder b = new StringBuilder(cells + 2).append('[');
    for (int i = 0; i < cells; i++) {
      if (i < filled) {
        b.append(i == filled - 1 && done < total ? '>' : '=');
      } else {
        b.append(' ');
      }
    }
    return b.append(']').toString();
  }

  private static String percent(long step, long total) {
    return (Math.min(step, total) * 100 / total) + "%";
  }

  private static int lastNonEmpty(List<String> fields) {
    for (int i = fields.size() - 1; i >= 0; i--) {
      if (!fields.get(i).isEmpty()) {
        return i;
      }
    }
    return -1;
  }

  private static String join(List<String> fields) {
    StringBuilder b = new StringBuilder();
    for (String f : fields) {
      if (!f.isEmpty()) {
        if (b.length() > 0) {
          b.append("  ");
        }
        b.append(f);
      }
    }
    return b.toString();
  }

  private static String padRight(String s, int n) {
    return s.length() >= n ? s : s + " ".repeat(n - s.length());
  }

  private static String cut(String s, int width) {
    return s.length() <= width ? s : s.substring(0, width);
  }
}
