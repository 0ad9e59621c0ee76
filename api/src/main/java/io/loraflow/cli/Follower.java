package io.loraflow.cli;

import io.loraflow.api.api.RunView;
import io.loraflow.api.core.RunService;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Follows a run until it closes: on a terminal, one progress line redrawn in place every second;
 * otherwise (logs, CI) a new line when the phase changes, or every 15 s when the numbers moved
 * (never the same line twice, never cut). Returns the closed run.
 */
final class Follower {

  private static final Duration POLL = Duration.ofSeconds(1);
  private static final Duration LOG_EVERY = Duration.ofSeconds(15);

  /** Consecutive failed polls (5 s apart) before following gives up. */
  private static final int MAX_FAILURES = 60;

  private final RunService runs;
  private final PrintStream out;
  private final boolean interactive;
  private final int width;
  private final Clock clock;

  Follower(RunService runs, PrintStream out, boolean interactive, int width, Clock clock) {
    this.runs = runs;
    this.out = out;
    this.interactive = interactive;
    this.width = width;
    this.clock = clock;
  }

  RunView follow(String runId) throws InterruptedException {
    ProgressSnapshots snapshots = new ProgressSnapshots();
    String lastPhase = null;
    String lastLine = null;
    String lastFields = null;
    Instant lastPrinted = Instant.MIN;
    int drawn = 0;
    int failures = 0;
    while (true) {
      RunView view;
      try {
        view = runs.describe(runId);
        failures = 0;
      } catch (io.loraflow.api.core.RunNotFoundException e) {
        throw e;
      } catch (RuntimeException e) {
        // a busy or restarting Temporal: keep following for a while, the run goes on regardless
        if (++failures > MAX_FAILURES) {
          throw e;
        }
        out.println(
            (interactive && drawn > 0 ? "\n" : "")
                + "Temporal did not answer ("
                + e.getMessage()
                + "); retrying");
        drawn = 0;
        Thread.sleep(POLL.toMillis() * 5);
        continue;
      }
      if (!"RUNNING".equals(view.status())) {
        if (interactive && drawn > 0) {
          out.print("\r" + " ".repeat(drawn) + "\r");
        }
        return view;
      }
      Instant now = clock.instant();
      // a log line is never cut (nothing redraws it); a terminal line fits the width
      int room = interactive ? width - 1 : Integer.MAX_VALUE / 2;
      String line =
          view.progress() != null
              ? ProgressLine.render(snapshots.of(view.progress(), now), room)
              : cut("waiting   " + Numbers.roundIn(view.progressError()), room);
      if (interactive) {
        out.print("\r" + line + " ".repeat(Math.max(0, drawn - line.length())));
        out.flush();
        drawn = line.length();
      } else {
        // a new line when the phase changes, else at most every LOG_EVERY and only when
        // something besides the ETA moved: a log never shows the same line twice
        String phase = view.phase();
        String fields = line.replaceAll("ETA \\S+", "");
        boolean phaseChanged = !java.util.Objects.equals(phase, lastPhase);
        boolean due = Duration.between(lastPrinted, now).compareTo(LOG_EVERY) >= 0;
        if (!line.equals(lastLine) && (phaseChanged || due && !fields.equals(lastFields))) {
          out.println(line);
          lastPhase = phase;
          lastLine = line;
          lastFields = fields;
          lastPrinted = now;
        }
      }
      Thread.sleep(POLL.toMillis());
    }
  }

  private static String cut(String s, int width) {
    return s.length() <= width ? s : s.substring(0, Math.max(0, width));
  }
}
