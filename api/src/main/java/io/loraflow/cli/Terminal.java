package io.loraflow.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** What the command line knows about its terminal: whether it is one, and how wide. */
public final class Terminal {

  static final int DEFAULT_WIDTH = 100;

  private Terminal() {}

  /** True when stdout is a terminal (then progress redraws one line with \r). */
  public static boolean interactive() {
    return System.console() != null;
  }

  /** Columns: $COLUMNS, else {@code stty size} on the controlling terminal, else 100. */
  public static int width() {
    String columns = System.getenv("COLUMNS");
    if (columns != null && columns.matches("\\d{2,4}")) {
      return Integer.parseInt(columns);
    }
    if (!interactive()) {
      return DEFAULT_WIDTH;
    }
    try {
      Process p =
          new ProcessBuilder("sh", "-c", "stty size < /dev/tty").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (p.waitFor(2, TimeUnit.SECONDS) && out.matches("\\d+ \\d+")) {
        return Math.max(20, Integer.parseInt(out.split(" ")[1]));
      }
    } catch (IOException e) {
      return DEFAULT_WIDTH;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return DEFAULT_WIDTH;
  }
}
