package io.loraflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.loraflow.api.api.AdapterList;
import io.loraflow.api.api.AdapterVersion;
import io.loraflow.api.api.Comparison;
import io.loraflow.api.api.RegisteredAdapter;
import io.loraflow.api.api.ScheduleList;
import io.loraflow.api.api.ScheduleSummary;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import io.loraflow.commandline.UsageException;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code adapters}, {@code compare} and {@code schedules}: the REST service's adapter catalog, run
 * comparison and schedule services ({@code GET /v1/adapters}, {@code GET /v1/compare}, {@code
 * /v1/schedules}) from a terminal, as tables (or {@code --json}, as the API returns them).
 */
final class CatalogCommands {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private CatalogCommands() {}

  static List<Command> all(StackSession.Opener stack) {
    return List.of(new Adapters(stack), new Compare(stack), new Schedules(stack));
  }

  /** {@code adapters [NAME] [--prefix P] [--versions N] [--json]}. */
  static final class Adapters implements Command {
    private final StackSession.Opener stack;

    Adapters(StackSession.Opener stack) {
      this.stack = stack;
    }

    @Override
    public String name() {
      return "adapters";
    }

    @Override
    public String summary() {
      return "registered adapters: versions, aliases (champion), eval metrics, lineage, promotion";
    }

    @Override
    public String epilog() {
      return "examples:\n  loraflow adapters\n  loraflow adapters loraflow-smollm2-135m-instruct"
          + " --versions 20";
    }

    @Override
    public void configure(Subparser p) {
      p.addArgument("name").nargs("?").metavar("NAME").help("one registered model (default: all)");
      p.addArgument("--prefix").setDefault("loraflow-").help("registered model names to list");
      p.addArgument("--limit").type(Integer.class).setDefault(20).help("models at most");
      p.addArgument("--versions").type(Integer.class).setDefault(5).help("versions per model");
      p.addArgument("--json").action(Arguments.storeTrue()).help("as the API returns it");
    }

    @Override
    public int run(Namespace a, Console console) throws Exception {
      try (StackSession s = stack.open(console.env())) {
        var adapters = s.services().adapters();
        List<RegisteredAdapter> models;
        Object json;
        if (a.getString("name") != null) {
          RegisteredAdapter one = adapters.get(a.getString("name"), a.getInt("versions"));
          models = List.of(one);
          json = one;
        } else {
          AdapterList list =
              adapters.list(a.getString("prefix"), a.getInt("limit"), a.getInt("versions"));
          models = list.adapters();
          json = list;
        }
        if (a.getBoolean("json")) {
          console.out().println(JSON.writeValueAsString(json));
        } else {
          print(models, console.out());
        }
      }
      return ExitCodes.OK;
    }

    static void print(List<RegisteredAdapter> models, PrintStream out) {
      if (models.isEmpty()) {
        out.println("(no registered adapters yet: a completed run registers one)");
        return;
      }
      for (RegisteredAdapter m : models) {
        out.println(m.name() + "   aliases " + m.aliases() + "   " + m.url());
        out.printf(
            "  %-8s %-22s %-12s %-12s %-8s %-36s %s%n",
            "VERSION", "ALIASES", "EVAL LOSS", "BASE LOSS", "ROUGE-L", "RUN", "PROMOTION");
        for (AdapterVersion v : m.versions()) {
          out.printf(
              "  %-8s %-22s %-12s %-12s %-8s %-36s %s%n",
              v.version(),
              v.aliases().isEmpty() ? "-" : String.join(",", v.aliases()),
              number(v.evalLoss()),
              number(v.baseEvalLoss()),
              number(v.rougeL()),
              v.runId() == null ? "-" : v.runId(),
              v.promotion() == null ? "-" : Numbers.roundIn(v.promotion()));
        }
      }
    }
  }

  /** {@code compare RUN RUN... [--all] [--json]}. */
  static final class Compare implements Command {
    /** Widest table cell. */
    static final int MAX_CELL = 44;

    private final StackSession.Opener stack;

    Compare(StackSession.Opener stack) {
      this.stack = stack;
    }

    @Override
    public String name() {
      return "compare";
    }

    @Override
    public String summary() {
      return "runs side by side: params and metrics from MLflow, differences marked";
    }

    @Override
    public String epilog() {
      return "rows that differ are marked with *; --all shows the equal ones too\n"
          + "example:\n  loraflow compare finetune-faq-1 finetune-faq-2";
    }

    @Override
    public void configure(Subparser p) {
      p.addArgument("runs").nargs("+").metavar("RUN_ID").help("2-10 run ids (finetune-...)");
      p.addArgument("--all").action(Arguments.storeTrue()).help("also the rows that are equal");
      p.addArgument("--json").action(Arguments.storeTrue()).help("as the API returns it");
    }

    @Override
    public int run(Namespace a, Console console) throws Exception {
      List<String> ids = a.getList("runs");
      if (ids.size() < 2) {
        throw new UsageException("give at least two run ids, got " + ids.size());
      }
      try (StackSession s = stack.open(console.env())) {
        Comparison c = s.services().comparer().compare(ids);
        if (a.getBoolean("json")) {
          console.out().println(JSON.writeValueAsString(c));
        } else {
          print(c, ids, a.getBoolean("all"), console.out());
        }
      }
      return ExitCodes.OK;
    }

    static void print(Comparison c, List<String> ids, boolean all, PrintStream out) {
      int key = 24;
      for (Comparison.ParamRow r : c.params()) {
        key = Math.max(key, r.key().length() + 2);
      }
      for (Comparison.MetricRow r : c.metrics()) {
        key = Math.max(key, r.key().length() + 2);
      }
      // columns as wide as the widest id or value (+2), at most MAX_CELL; longer values are cut
      int col = Math.max(14, ids.stream().mapToInt(String::length).max().orElse(14) + 2);
      for (Comparison.ParamRow r : c.params()) {
        for (String v : r.values().values()) {
          col = Math.max(col, Math.min(MAX_CELL, v.length() + 2));
        }
      }
      String row = "%s %-" + key + "s" + ("%-" + col + "s").repeat(ids.size()) + "%n";
      Object[] header = new Object[ids.size() + 2];
      header[0] = " ";
      header[1] = "";
      for (int i = 0; i < ids.size(); i++) {
        header[i + 2] = ids.get(i);
      }
      out.printf(row, header);
      out.println("params");
      for (Comparison.ParamRow r : c.params()) {
        if (all || r.differs()) {
          out.printf(row, line(r.differs(), r.key(), ids, id -> r.values().get(id)));
        }
      }
      out.println("metrics");
      for (Comparison.MetricRow r : c.metrics()) {
        if (all || r.differs()) {
          out.printf(
              row,
              line(
                  r.differs(),
                  r.key(),
                  ids,
                  id -> r.values().get(id) == null ? null : Numbers.round(r.values().get(id))));
        }
      }
      for (Comparison.ComparedRun r : c.runs()) {
        out.println("  " + r.runId() + "  " + r.status() + "  " + r.url());
      }
    }

    private static Object[] line(
        boolean differs,
        String key,
        List<String> ids,
        java.util.function.Function<String, String> value) {
      Object[] cells = new Object[ids.size() + 2];
      cells[0] = differs ? "*" : " ";
      cells[1] = key;
      for (int i = 0; i < ids.size(); i++) {
        String v = value.apply(ids.get(i));
        cells[i + 2] =
            v == null ? "-" : v.length() > MAX_CELL - 2 ? v.substring(0, MAX_CELL - 3) + "…" : v;
      }
      return cells;
    }
  }

  /** {@code schedules [list|pause|resume|delete] [ID] [--note N] [--json]}. */
  static final class Schedules implements Command {
    private final StackSession.Opener stack;

    Schedules(StackSession.Opener stack) {
      this.stack = stack;
    }

    @Override
    public String name() {
      return "schedules";
    }

    @Override
    public String summary() {
      return "retrain schedules: list, pause, resume, delete (create them with retrain --cron)";
    }

    @Override
    public String epilog() {
      return "examples:\n  loraflow schedules\n  loraflow schedules pause retrain-finetune-faq-1"
          + " --note \"data freeze\"\n  loraflow schedules delete retrain-finetune-faq-1";
    }

    @Override
    public void configure(Subparser p) {
      p.addArgument("action")
          .nargs("?")
          .choices("list", "pause", "resume", "delete")
          .setDefault("list")
          .help("what to do");
      p.addArgument("id").nargs("?").metavar("SCHEDULE_ID").help("the schedule (not for list)");
      p.addArgument("--note").help("why (pause, resume)");
      p.addArgument("--limit").type(Integer.class).setDefault(50).help("list at most N");
      p.addArgument("--json").action(Arguments.storeTrue()).help("as the API returns it");
    }

    @Override
    public int run(Namespace a, Console console) throws Exception {
      String action = a.getString("action");
      String id = a.getString("id");
      if (action.equals("list") != (id == null)) {
        throw new UsageException(
            action.equals("list")
                ? "list takes no schedule id, got '" + id + "'"
                : action + " needs a schedule id (loraflow schedules lists them)");
      }
      try (StackSession s = stack.open(console.env())) {
        var schedules = s.services().schedules();
        PrintStream out = console.out();
        switch (action) {
          case "list" -> {
            ScheduleList list = schedules.list(a.getInt("limit"));
            if (a.getBoolean("json")) {
              out.println(JSON.writeValueAsString(list));
            } else {
              print(list.schedules(), out);
            }
          }
          case "delete" -> {
            schedules.delete(id);
            out.println("deleted schedule " + id + " (runs it started keep running)");
          }
          default -> {
            ScheduleSummary now =
                action.equals("pause")
                    ? schedules.pause(id, a.getString("note"))
                    : schedules.resume(id, a.getString("note"));
            if (a.getBoolean("json")) {
              out.println(JSON.writeValueAsString(now));
            } else {
              print(List.of(now), out);
            }
          }
        }
      }
      return ExitCodes.OK;
    }

    static void print(List<ScheduleSummary> schedules, PrintStream out) {
      if (schedules.isEmpty()) {
        out.println("(no retrain schedules: loraflow retrain --from-run RUN --cron \"0 3 * * *\")");
        return;
      }
      // WHEN: every cron expression and every interval of the schedule, as wide as the widest
      List<String> whens = schedules.stream().map(Schedules::when).toList();
      int width = Math.max(24, whens.stream().mapToInt(String::length).max().orElse(0) + 1);
      String row = "%-40s %-8s %-" + width + "s %s%n";
      out.printf(row, "SCHEDULE", "STATE", "WHEN", "NEXT RUN");
      for (int i = 0; i < schedules.size(); i++) {
        ScheduleSummary s = schedules.get(i);
        out.printf(
            row,
            s.scheduleId(),
            s.paused() ? "paused" : "active",
            whens.get(i),
            s.nextRuns().isEmpty() ? "-" : s.nextRuns().get(0));
        if (s.note() != null && !s.note().isBlank()) {
          out.println("  note: " + s.note());
        }
      }
    }

    /** {@code cron 0 3 * * *, every 24h}: the cron expressions (UTC), then the intervals. */
    static String when(ScheduleSummary s) {
      List<String> when = new java.util.ArrayList<>();
      s.cron().forEach(c -> when.add("cron " + c));
      s.every().forEach(e -> when.add("every " + interval(e)));
      return when.isEmpty() ? "-" : String.join(", ", when);
    }

    /** The API's {@code 86400s} as {@code 24h} (the largest of d, h, m, s that divides it). */
    static String interval(String seconds) {
      if (!seconds.matches("[0-9]+s")) {
        return seconds;
      }
      long n = Long.parseLong(seconds.substring(0, seconds.length() - 1));
      if (n > 0 && n % 86_400 == 0 && n / 86_400 != 1) {
        return n / 86_400 + "d";
      }
      if (n > 0 && n % 3_600 == 0) {
        return n / 3_600 + "h";
      }
      if (n > 0 && n % 60 == 0) {
        return n / 60 + "m";
      }
      return n + "s";
    }
  }

  static String number(Double d) {
    return d == null ? "-" : String.format(Locale.ROOT, "%.3f", d);
  }
}
