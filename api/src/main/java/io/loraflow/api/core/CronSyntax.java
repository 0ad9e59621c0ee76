package io.loraflow.api.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The cron text a retrain schedule accepts: the part of Temporal's schedule cron syntax (server
 * {@code service/worker/scheduler/calendar.go}, {@code parseCronString}) that a client can send
 * without surprises, each field checked the way the server checks it, so that what passes here the
 * server accepts and what fails gets a message that names the field.
 *
 * <ul>
 *   <li>5 fields {@code minute hour day-of-month month day-of-week} or 6 (those and {@code year}),
 *       separated by single spaces; or one of the shorthands {@code @yearly @annually @monthly
 *       @weekly @daily @midnight @hourly}.
 *   <li>each field a comma list of items: {@code *}, a value {@code v}, a range {@code a-b} (a ≤ b),
 *       each optionally with a step {@code /n} (n 1-99; {@code v/n} means v to the field's end).
 *   <li>values: second/minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
 *       day-of-week 0-7 (0 and 7 are Sunday) or SUN-SAT, year 2000-2100 (the server's calendar
 *       bounds). Names are 3-letter abbreviations in any case; numbers below 10 may have one
 *       leading zero ({@code 05}).
 * </ul>
 *
 * <p>Left out on purpose, each with its own message: the server's 7-field form with a leading
 * seconds field (a retrain needs no second precision, and leaving it out halves the published
 * pattern), {@code TZ=}/{@code CRON_TZ=} prefixes (schedules run in UTC), {@code @every} (that is
 * {@code schedule.every}), {@code ?}, longer name prefixes ({@code MONDAY}), and whitespace other
 * than single spaces.
 *
 * <p>{@link #regex()} is the same language as one regular expression: the OpenAPI document's
 * pattern for {@code ScheduleRequest.cron} items (so clients and fuzzers see the exact rule);
 * {@link #problem} explains a value the pattern refuses. {@code CronSyntaxTest} holds them equal.
 */
public final class CronSyntax {

  /** One cron field: its name, its value bounds and, for month and day of week, its names. */
  record Field(String name, int min, int max, List<String> names, int firstNamed) {

    String bounds() {
      String numbers = min + "-" + max;
      return switch (name) {
        case "month" -> numbers + " or JAN-DEC";
        case "day-of-week" -> numbers + " or SUN-SAT (0 and 7 are Sunday)";
        default -> numbers;
      };
    }

    /** The value a name stands for, or -1. */
    int named(String text) {
      int i = names.indexOf(text.toUpperCase(Locale.ROOT));
      return i < 0 ? -1 : firstNamed + i;
    }

    /** The spellings of value v: the number, a zero-padded one below 10, the name. */
    List<String> spellings(int v) {
      List<String> out = new ArrayList<>();
      out.add(Integer.toString(v));
      if (v < 10 && max < 100) {
        out.add("0" + v);
      }
      return out;
    }
  }

  static final Field MINUTE = new Field("minute", 0, 59, List.of(), 0);
  static final Field HOUR = new Field("hour", 0, 23, List.of(), 0);
  static final Field DAY_OF_MONTH = new Field("day-of-month", 1, 31, List.of(), 0);
  static final Field MONTH =
      new Field(
          "month",
          1,
          12,
          List.of(
              "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
          1);
  static final Field DAY_OF_WEEK =
      new Field("day-of-week", 0, 7, List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 0);
  static final Field YEAR = new Field("year", 2000, 2100, List.of(), 0);

  static final List<Field> FIVE = List.of(MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK);
  static final List<Field> SIX = List.of(MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR);

  static final List<String> SHORTHANDS =
      List.of("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly");

  /** Steps: {@code /1} to {@code /99}, no leading zero. */
  private static final String STEP = "/[1-9][0-9]?";

  private static final Pattern STEP_TEXT = Pattern.compile("[1-9][0-9]?");

  private static final String REGEX = buildRegex();

  private static final Pattern COMPILED = Pattern.compile(REGEX);

  private CronSyntax() {}

  /** The accepted language as a regular expression (anchored, ECMA-262 and Java compatible). */
  public static String regex() {
    return REGEX;
  }

  /** True when the schedule's server accepts {@code cron} as this class describes. */
  public static boolean accepts(String cron) {
    return COMPILED.matcher(cron).matches();
  }

  /**
   * Why {@code cron} is refused, naming the field and what it allows; empty when it is accepted.
   * Values are quoted only when short (the caller bounds the whole text).
   */
  public static Optional<String> problem(String cron) {
    if (cron.isEmpty()) {
      return Optional.of("is empty; " + FIELDS_HINT);
    }
    if (cron.startsWith("TZ=") || cron.startsWith("CRON_TZ=")) {
      return Optional.of(
          "has a time zone prefix; schedules run in UTC: drop the TZ=/CRON_TZ= part and give the"
              + " times in UTC");
    }
    if (cron.startsWith("@every")) {
      return Optional.of("@every is not cron here: give the interval in schedule.every, e.g. 24h");
    }
    if (cron.startsWith("@")) {
      return SHORTHANDS.contains(cron)
          ? Optional.empty()
          : Optional.of("is not a known shorthand; use one of " + String.join(" ", SHORTHANDS));
    }
    if (!cron.matches("[^\\s]+( [^\\s]+)*")) {
      return Optional.of(
          "must have its fields separated by single spaces (no tabs, no leading, trailing or"
              + " doubled spaces)");
    }
    String[] parts = cron.split(" ");
    List<Field> fields =
        switch (parts.length) {
          case 5 -> FIVE;
          case 6 -> SIX;
          default -> null;
        };
    if (parts.length == 7) {
      return Optional.of(
          "has 7 fields; a leading seconds field is not accepted here (schedules run at minute"
              + " precision): give 5 fields (minute hour day-of-month month day-of-week) or 6"
              + " (those and year)");
    }
    if (fields == null) {
      return Optional.of("has " + parts.length + " fields; " + FIELDS_HINT);
    }
    for (int i = 0; i < parts.length; i++) {
      Optional<String> p = fieldProblem(parts[i], fields.get(i));
      if (p.isPresent()) {
        return Optional.of("field " + (i + 1) + " (" + fields.get(i).name() + ") " + p.get());
      }
    }
    return Optional.empty();
  }

  private static final String FIELDS_HINT =
      "give 5 fields (minute hour day-of-month month day-of-week, e.g. \"0 3 * * MON-FRI\") or 6"
          + " (those and year)";

  private static final String ITEMS =
      "; an item is *, a value or a range a-b, each with an optional step /n, items separated by"
          + " commas";

  private static Optional<String> fieldProblem(String text, Field field) {
    for (String item : text.split(",", -1)) {
      if (item.isEmpty()) {
        return Optional.of("has an empty list item in " + quote(text));
      }
      Optional<String> p = itemProblem(item, field);
      if (p.isPresent()) {
        return p;
      }
    }
    return Optional.empty();
  }

  private static Optional<String> itemProblem(String item, Field field) {
    String[] stepSplit = item.split("/", -1);
    if (stepSplit.length > 2) {
      return Optional.of(quote(item) + " has more than one step (/)");
    }
    if (stepSplit.length == 2 && !STEP_TEXT.matcher(stepSplit[1]).matches()) {
      return Optional.of(quote(item) + " has step " + quote(stepSplit[1]) + ", not 1-99");
    }
    String base = stepSplit[0];
    if (base.equals("*")) {
      return Optional.empty();
    }
    String[] range = base.split("-", -1);
    if (range.length > 2) {
      return Optional.of(quote(item) + " is not a range a-b" + ITEMS);
    }
    int[] values = new int[range.length];
    for (int i = 0; i < range.length; i++) {
      String v = range[i];
      int named = field.named(v);
      if (named >= 0) {
        values[i] = named;
        continue;
      }
      if (!v.matches("[0-9]+")) {
        return Optional.of(
            (v.isEmpty() ? quote(item) + " has an empty value" : quote(v) + " is not a value")
                + ", values are "
                + field.bounds()
                + (v.equals("?") ? " ('?' is not supported: use '*')" : ITEMS));
      }
      long number = v.length() > 6 ? Long.MAX_VALUE : Long.parseLong(v);
      if (number < field.min() || number > field.max()) {
        return Optional.of(quote(v) + " is out of range, values are " + field.bounds());
      }
      if (!field.spellings((int) number).contains(v)) {
        return Optional.of(quote(v) + " has extra leading zeros: write " + number);
      }
      values[i] = (int) number;
    }
    if (values.length == 2 && values[1] < values[0]) {
      return Optional.of(
          "range "
              + quote(base)
              + " runs backwards ("
              + values[0]
              + " to "
              + values[1]
              + "): write the lower value first");
    }
    return Optional.empty();
  }

  private static String quote(String s) {
    return s.length() <= 32 ? "'" + s + "'" : "'" + s.substring(0, 29) + "...'";
  }

  // ---- the same language as a regular expression ----

  private static String buildRegex() {
    String five = fieldsRegex(FIVE);
    String yearRegex = fieldRegex(YEAR);
    StringBuilder shorthands = new StringBuilder();
    for (String s : SHORTHANDS) {
      shorthands.append(shorthands.length() == 0 ? "" : "|").append(s.substring(1));
    }
    return "^(?:@(?:" + shorthands + ")|" + five + "(?: " + yearRegex + ")?)$";
  }

  private static String fieldsRegex(List<Field> fields) {
    StringBuilder out = new StringBuilder();
    for (Field f : fields) {
      out.append(out.length() == 0 ? "" : " ").append(fieldRegex(f));
    }
    return out.toString();
  }

  /** {@code item(,item)*} with item = {@code *}, a value or an ordered range, each with a step. */
  private static String fieldRegex(Field f) {
    List<String> ranges = new ArrayList<>();
    for (int a = f.min(); a <= f.max(); a++) {
      ranges.add("(?:" + valuesRegex(f, a, a) + ")-(?:" + valuesRegex(f, a, f.max()) + ")");
    }
    String item =
        "(?:\\*|"
            + valuesRegex(f, f.min(), f.max())
            + "|"
            + String.join("|", ranges)
            + ")(?:"
            + STEP
            + ")?";
    return "(?:" + item + ")(?:,(?:" + item + "))*";
  }

  /** Every spelling of the values lo..hi: numbers as a compact trie, then names. */
  private static String valuesRegex(Field f, int lo, int hi) {
    TreeSet<String> numbers = new TreeSet<>();
    List<String> names = new ArrayList<>();
    for (int v = lo; v <= hi; v++) {
      numbers.addAll(f.spellings(v));
      int nameIndex = v - f.firstNamed();
      if (nameIndex >= 0 && nameIndex < f.names().size()) {
        names.add(anyCase(f.names().get(nameIndex)));
      }
    }
    String digits = trie(numbers);
    return names.isEmpty() ? digits : digits + "|" + String.join("|", names);
  }

  private static String anyCase(String name) {
    StringBuilder out = new StringBuilder();
    for (char c : name.toCharArray()) {
      out.append('[').append(c).append(Character.toLowerCase(c)).append(']');
    }
    return out.toString();
  }

  /**
   * A regex matching exactly {@code strings} (digit strings): a trie whose sibling digits with the
   * same continuation share one character class, e.g. {17..59} gives {@code 1[7-9]|[2-5][0-9]}.
   */
  static String trie(TreeSet<String> strings) {
    boolean terminal = strings.contains("");
    Map<Character, TreeSet<String>> byFirst = new TreeMap<>();
    for (String s : strings) {
      if (!s.isEmpty()) {
        byFirst.computeIfAbsent(s.charAt(0), c -> new TreeSet<>()).add(s.substring(1));
      }
    }
    Map<String, TreeSet<Character>> byRest = new LinkedHashMap<>();
    for (Map.Entry<Character, TreeSet<String>> e : byFirst.entrySet()) {
      byRest.computeIfAbsent(trie(e.getValue()), r -> new TreeSet<>()).add(e.getKey());
    }
    List<String> alternatives = new ArrayList<>();
    byRest.forEach((rest, firsts) -> alternatives.add(charClass(firsts) + rest));
    if (alternatives.isEmpty()) {
      return "";
    }
    String joined = String.join("|", alternatives);
    if (terminal) {
      return "(?:" + joined + ")?";
    }
    return alternatives.size() == 1 ? joined : "(?:" + joined + ")";
  }

  private static String charClass(TreeSet<Character> chars) {
    if (chars.size() == 1) {
      return chars.first().toString();
    }
    StringBuilder out = new StringBuilder("[");
    Character runStart = null;
    Character previous = null;
    for (char c : chars) {
      if (previous != null && c == previous + 1) {
        previous = c;
        continue;
      }
      if (runStart != null) {
        out.append(run(runStart, previous));
      }
      runStart = c;
      previous = c;
    }
    out.append(run(runStart, previous));
    return out.append(']').toString();
  }

  private static String run(char from, char to) {
    if (from == to) {
      return Character.toString(from);
    }
    return to == from + 1 ? "" + from + to : from + "-" + to;
  }
}
