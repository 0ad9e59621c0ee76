package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.loraflow.api.api.ScheduleSummary;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code loraflow schedules} table: cron and interval both shown, columns aligned. */
class SchedulesTableTest {

  static String table(List<ScheduleSummary> schedules) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CatalogCommands.Schedules.print(schedules, new PrintStream(out, true, StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aScheduleWithCronAndIntervalShowsBoth() {
    String t =
        table(
            List.of(
                new ScheduleSummary(
                    "retrain-faq",
                    false,
                    null,
                    List.of("0 3 * * *", "*/15 9-17 * * 1-5"),
                    List.of("86400s"),
                    List.of("2026-12-02T03:00:00Z"),
                    List.of()),
                new ScheduleSummary(
                    "retrain-weekly",
                    true,
                    "data freeze",
                    List.of(),
                    List.of("604800s", "5400s"),
                    List.of(),
                    List.of())));
    String[] lines = t.split("\n");
    assertEquals(
        String.format(
            "%-40s %-8s %-50s %s",
            "retrain-faq",
            "active",
            "cron 0 3 * * *, cron */15 9-17 * * 1-5, every 24h",
            "2026-12-02T03:00:00Z"),
        lines[1].replaceAll(" +$", ""));
    assertEquals(
        String.format(
            "%-40s %-8s %-50s %s", "retrain-weekly", "paused", "every 7d, every 90m", "-"),
        lines[2]);
    assertEquals("  note: data freeze", lines[3]);
    assertEquals(lines[0].indexOf("NEXT RUN"), lines[1].indexOf("2026-12-02"), "aligned:\n" + t);
  }

  @Test
  void intervalsReadAsTheRetrainFlagsWriteThem() {
    assertEquals("24h", CatalogCommands.Schedules.interval("86400s"));
    assertEquals("2d", CatalogCommands.Schedules.interval("172800s"));
    assertEquals("90m", CatalogCommands.Schedules.interval("5400s"));
    assertEquals("45s", CatalogCommands.Schedules.interval("45s"));
    assertEquals("1.5s", CatalogCommands.Schedules.interval("1.5s"));
  }
}
