package io.loraflow.api.core;

import io.temporal.client.schedules.ScheduleCalendarSpec;
import io.temporal.client.schedules.ScheduleRange;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A schedule calendar as cron text. Temporal stores a cron expression as a structured calendar and
 * describes the schedule with the calendar only (the cron string is gone), so a schedule created
 * with {@code cron: ["0 3 * * *"]} reads back as this calendar; rendering it gives {@code "0 3 * *
 * *"} again (names become numbers: {@code MON-FRI} reads back as {@code 1-5}; a value with a step
 * runs to the field's end: {@code 5/15} reads back as {@code 5-59/15}; {@code 0-7} in the day of
 * the week is {@code *}). Seconds and years appear only when they are not the cron defaults (second
 * 0, every year), as a leading seconds field and a trailing year field. Without seconds the text is
 * one {@link CronSyntax} accepts, so a schedule read back can be sent again.
 */
public final class CronText {

  private CronText() {}

  /** {@code minute hour day-of-month month day-of-week}, ranges as {@code a-b/step}. */
  public static String of(ScheduleCalendarSpec c) {
    String fields =
        String.join(
            " ",
            field(c.getMinutes(), 0, 59),
            field(c.getHour(), 0, 23),
            field(c.getDayOfMonth(), 1, 31),
            field(c.getMonth(), 1, 12),
            field(c.getDayOfWeek(), 0, 6));
    boolean secondZero =
        c.getSeconds() == null
            || c.getSeconds().isEmpty()
            || "0".equals(field(c.getSeconds(), 0, 59));
    // the server's calendar years are 2000-2100: a range over all of them is "every year"
    String year = field(c.getYear(), 2000, 2100);
    return (secondZero ? "" : field(c.getSeconds(), 0, 59) + " ")
        + fields
        + ("*".equals(year) ? "" : " " + year);
  }

  /** One cron field; an empty list is the cron default of that field's position ("*"). */
  static String field(List<ScheduleRange> ranges, int min, int max) {
    if (ranges == null || ranges.isEmpty()) {
      return "*";
    }
    return ranges.stream().map(r -> range(r, min, max)).collect(Collectors.joining(","));
  }

  private static String range(ScheduleRange r, int min, int max) {
    int start = r.getStart();
    int end = Math.max(r.getEnd(), start); // 0 (unset) or below start: just start
    int step = Math.max(r.getStep(), 1); // 0 (unset): 1
    String stepText = step == 1 ? "" : "/" + step;
    if (start <= min && end >= max) {
      return "*" + stepText;
    }
    if (start == end) {
      return Integer.toString(start);
    }
    return start + "-" + end + stepText;
  }
}
