package io.loraflow.api.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.temporal.client.schedules.ScheduleCalendarSpec;
import io.temporal.client.schedules.ScheduleIntervalSpec;
import io.temporal.client.schedules.ScheduleRange;
import io.temporal.client.schedules.ScheduleSpec;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Calendars as Temporal's server stores cron text (the shapes of `temporal schedule describe` for a
 * schedule created with cron "0 3 * * *": second [0], minute [0], hour [3-3], day 1-31, month 1-12,
 * weekday 0-6) read back as that cron text.
 */
class CronTextTest {

  static ScheduleCalendarSpec calendar(
      List<ScheduleRange> second,
      List<ScheduleRange> minute,
      List<ScheduleRange> hour,
      List<ScheduleRange> dom,
      List<ScheduleRange> month,
      List<ScheduleRange> dow,
      List<ScheduleRange> year) {
    return ScheduleCalendarSpec.newBuilder()
        .setSeconds(second)
        .setMinutes(minute)
        .setHour(hour)
        .setDayOfMonth(dom)
        .setMonth(month)
        .setDayOfWeek(dow)
        .setYear(year)
        .build();
  }

  static final List<ScheduleRange> ZERO = List.of(new ScheduleRange(0, 0, 1));
  static final List<ScheduleRange> DAYS = List.of(new ScheduleRange(1, 31, 1));
  static final List<ScheduleRange> MONTHS = List.of(new ScheduleRange(1, 12, 1));
  static final List<ScheduleRange> WEEK = List.of(new ScheduleRange(0, 6, 1));

  @Test
  void theServersCalendarOfACronStringReadsBackAsThatString() {
    assertEquals(
        "0 3 * * *",
        CronText.of(
            calendar(ZERO, ZERO, List.of(new ScheduleRange(3, 3, 1)), DAYS, MONTHS, WEEK, null)));
    assertEquals(
        "*/15 9-17 * * 1-5",
        CronText.of(
            calendar(
                ZERO,
                List.of(new ScheduleRange(0, 59, 15)),
                List.of(new ScheduleRange(9, 17, 1)),
                DAYS,
                MONTHS,
                List.of(new ScheduleRange(1, 5, 1)),
                List.of())));
    assertEquals(
        "30 0,12 1 */3 *",
        CronText.of(
            calendar(
                ZERO,
                List.of(new ScheduleRange(30)),
                List.of(new ScheduleRange(0), new ScheduleRange(12)),
                List.of(new ScheduleRange(1)),
                List.of(new ScheduleRange(1, 12, 3)),
                WEEK,
                List.of())));
  }

  @Test
  void secondsAndYearsAppearOnlyWhenTheyAreNotTheDefaults() {
    assertEquals(
        "*/10 0 3 * * * 2027",
        CronText.of(
            calendar(
                List.of(new ScheduleRange(0, 59, 10)),
                ZERO,
                List.of(new ScheduleRange(3)),
                DAYS,
                MONTHS,
                WEEK,
                List.of(new ScheduleRange(2027)))));
    // unset protobuf fields are zeros: end 0 = start, step 0 = 1
    assertEquals(
        "0 5 * * *",
        CronText.of(
            calendar(
                List.of(new ScheduleRange(0, 0, 0)),
                List.of(new ScheduleRange(0, 0, 0)),
                List.of(new ScheduleRange(5, 0, 0)),
                DAYS,
                MONTHS,
                WEEK,
                null)));
  }

  @Test
  void rangesStepsListsAndNamesReadBackAsCronTextTheApiAcceptsAgain() {
    // the server's calendar for "0 9-17 * * MON-FRI", "5/15 * 1,15 JAN-MAR 0-7" and
    // "0 12 * * * 2027-2030" (calendar.go makeRange: end 0 = start, step 0 = 1, * = min-max)
    String weekdays =
        CronText.of(
            calendar(
                ZERO,
                ZERO,
                List.of(new ScheduleRange(9, 17, 0)),
                DAYS,
                MONTHS,
                List.of(new ScheduleRange(1, 5, 0)),
                List.of(new ScheduleRange(2000, 2100, 0))));
    assertEquals("0 9-17 * * 1-5", weekdays);
    String stepped =
        CronText.of(
            calendar(
                ZERO,
                List.of(new ScheduleRange(5, 59, 15)),
                List.of(new ScheduleRange(0, 23, 0)),
                List.of(new ScheduleRange(1, 0, 0), new ScheduleRange(15, 0, 0)),
                List.of(new ScheduleRange(1, 3, 0)),
                List.of(new ScheduleRange(0, 7, 0)),
                List.of(new ScheduleRange(2000, 2100, 0))));
    assertEquals("5-59/15 * 1,15 1-3 *", stepped);
    String years =
        CronText.of(
            calendar(
                ZERO,
                ZERO,
                List.of(new ScheduleRange(12)),
                DAYS,
                MONTHS,
                WEEK,
                List.of(new ScheduleRange(2027, 2030, 0))));
    assertEquals("0 12 * * * 2027-2030", years);
    for (String text : List.of(weekdays, stepped, years)) {
      assertEquals(java.util.Optional.empty(), CronSyntax.problem(text), text);
    }
  }

  @Test
  void aScheduleWithCronAndIntervalListsBoth() {
    ScheduleSpec spec =
        ScheduleSpec.newBuilder()
            .setCalendars(
                List.of(
                    calendar(ZERO, ZERO, List.of(new ScheduleRange(3)), DAYS, MONTHS, WEEK, null)))
            .setIntervals(List.of(new ScheduleIntervalSpec(Duration.ofHours(24))))
            .build();
    assertEquals(List.of("0 3 * * *"), ScheduleService.cronOf(spec));
  }
}
