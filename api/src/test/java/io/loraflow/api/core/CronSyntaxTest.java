package io.loraflow.api.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The cron text a schedule accepts: Temporal's forms (ranges, steps, lists, names, 6 and 7 fields,
 * shorthands, a year field) pass; the rest fail with a message naming the field; the regex
 * published in the OpenAPI document and the explaining parser agree on every string.
 */
class CronSyntaxTest {

  @Test
  void acceptsRangesStepsListsNamesAndTheLongerForms() {
    for (String ok :
        List.of(
            "0 3 * * *",
            "0 9-17 * * *",
            "*/15 9-17 * * MON-FRI",
            "0 0 1,15 * *",
            "5/15 * * * *",
            "0-30/10 8-18/2 1-7 JAN-MAR,jun 1-5",
            "0 3 * * sun,Sat",
            "0 3 * * 0-7",
            "0 3 * * 7",
            "05 03 * * *",
            "0 12 31 12 * 2027",
            "0 12 * * * 2000-2100/4",
            "0 0 * DEC FRI",
            "@daily",
            "@hourly",
            "@annually",
            "59 23 31 12 6")) {
      assertEquals(Optional.empty(), CronSyntax.problem(ok), ok);
      assertTrue(CronSyntax.accepts(ok), ok);
    }
  }

  @Test
  void refusesTheRestNamingTheFieldAndWhatItAllows() {
    assertRefused("0 25 * * *", "field 2 (hour) '25' is out of range, values are 0-23");
    assertRefused("60 * * * *", "field 1 (minute) '60' is out of range, values are 0-59");
    assertRefused("0 17-9 * * *", "field 2 (hour) range '17-9' runs backwards (17 to 9)");
    assertRefused("0 3 * * FRI-MON", "field 5 (day-of-week) range 'FRI-MON' runs backwards");
    assertRefused("*/0 * * * *", "field 1 (minute) '*/0' has step '0', not 1-99");
    assertRefused("0 3 0 * *", "field 3 (day-of-month) '0' is out of range, values are 1-31");
    assertRefused("0 3 * 13 *", "field 4 (month) '13' is out of range, values are 1-12 or JAN-DEC");
    assertRefused("0 3 * * MONDAY", "field 5 (day-of-week) 'MONDAY' is not a value");
    assertRefused("0 3 * * 8", "values are 0-7 or SUN-SAT (0 and 7 are Sunday)");
    assertRefused("0 3 * JAN-FRI *", "field 4 (month) 'FRI' is not a value");
    assertRefused("0 3 ? * *", "'?' is not supported: use '*'");
    assertRefused("0 3 1,,2 * *", "field 3 (day-of-month) has an empty list item in '1,,2'");
    assertRefused("0 3 * * * 1999", "field 6 (year) '1999' is out of range, values are 2000-2100");
    assertRefused("0 003 * * *", "field 2 (hour) '003' has extra leading zeros: write 3");
    assertRefused("0 1-2-3 * * *", "field 2 (hour) '1-2-3' is not a range a-b");
    assertRefused("0 */2/3 * * *", "field 2 (hour) '*/2/3' has more than one step");
    assertRefused("0 -3 * * *", "field 2 (hour) '-3' has an empty value");
    assertRefused("0 3 * *", "has 4 fields; give 5 fields (minute hour day-of-month month");
    assertRefused("0 0 3 * * * * *", "has 8 fields");
    assertRefused("30 0 12 * * * 2030", "has 7 fields; a leading seconds field is not accepted");
    assertRefused("0  3 * * *", "separated by single spaces");
    assertRefused("0\t3 * * *", "separated by single spaces");
    assertRefused("", "is empty");
    assertRefused("@every 1h", "give the interval in schedule.every");
    assertRefused("@often", "is not a known shorthand; use one of @yearly");
    assertRefused("CRON_TZ=Europe/Paris 0 3 * * *", "schedules run in UTC");
  }

  @Test
  void theRegexAndTheParserAgreeOnEveryString() {
    Pattern published = Pattern.compile(CronSyntax.regex());
    String[] pieces = {
      "0", "3", "05", "7", "9", "12", "17", "23", "24", "31", "59", "60", "2000", "2100", "1999",
      "*", "-", "/", "/2", "/0", ",", " ", " ", " ", "MON", "fri", "JAN", "dec", "SUN", "x", "?",
      "@daily", "@every"
    };
    Random random = new Random(11);
    int accepted = 0;
    for (int i = 0; i < 60_000; i++) {
      StringBuilder s = new StringBuilder();
      int n = 1 + random.nextInt(24);
      for (int j = 0; j < n; j++) {
        s.append(pieces[random.nextInt(pieces.length)]);
      }
      String text = s.toString();
      boolean byRegex = published.matcher(text).matches();
      Optional<String> problem = CronSyntax.problem(text);
      assertEquals(problem.isEmpty(), byRegex, () -> text + " -> " + problem);
      accepted += byRegex ? 1 : 0;
    }
    // and on structured strings, most of them valid: 5, 6 or 7 fields of items
    String[] items = {
      "*", "*/5", "0", "7", "9-17", "17-9", "1-5/2", "MON-FRI", "JAN", "2030", "3/15", "0-7", "12"
    };
    for (int i = 0; i < 60_000; i++) {
      int fields = 5 + random.nextInt(2);
      StringBuilder s = new StringBuilder();
      for (int f = 0; f < fields; f++) {
        s.append(f == 0 ? "" : " ").append(items[random.nextInt(items.length)]);
        if (random.nextInt(4) == 0) {
          s.append(',').append(items[random.nextInt(items.length)]);
        }
      }
      String text = s.toString();
      boolean byRegex = published.matcher(text).matches();
      Optional<String> problem = CronSyntax.problem(text);
      assertEquals(problem.isEmpty(), byRegex, () -> text + " -> " + problem);
      accepted += byRegex ? 1 : 0;
    }
    assertTrue(accepted > 1_000, "the generator reaches accepted strings: " + accepted);
  }

  @Test
  void theTrieMatchesExactlyItsStrings() {
    java.util.TreeSet<String> set = new java.util.TreeSet<>();
    for (int v = 17; v <= 59; v++) {
      set.add(Integer.toString(v));
    }
    assertEquals("(?:1[7-9]|[2-5][0-9])", CronSyntax.trie(set));
    Pattern p = Pattern.compile(CronSyntax.trie(set));
    for (int v = 0; v < 100; v++) {
      assertEquals(v >= 17 && v <= 59, p.matcher(Integer.toString(v)).matches(), "" + v);
    }
  }

  private static void assertRefused(String cron, String expectedPart) {
    Optional<String> problem = CronSyntax.problem(cron);
    assertTrue(problem.isPresent(), cron + " is refused");
    assertTrue(
        problem.get().contains(expectedPart), () -> cron + ": '" + problem.get() + "' names it");
    assertFalse(CronSyntax.accepts(cron), cron);
  }
}
