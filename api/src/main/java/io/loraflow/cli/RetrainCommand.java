package io.loraflow.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dropwizard.jersey.validation.Validators;
import io.loraflow.api.api.RetrainRequest;
import io.loraflow.api.api.RetrainResponse;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import io.loraflow.commandline.UsageException;
import jakarta.validation.ConstraintViolation;
import java.io.PrintStream;
import java.util.List;
import java.util.TreeSet;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.MutuallyExclusiveGroup;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code retrain}: a new run from an earlier run's spec (or the run behind a registered adapter
 * version), with a new dataset and/or overrides, now and/or on a Temporal Schedule. The same {@link
 * io.loraflow.api.core.Retrainer} as {@code POST /v1/retrain}, and the same validation (the request
 * record's constraints).
 */
final class RetrainCommand implements Command {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final StackSession.Opener stack;

  RetrainCommand(StackSession.Opener stack) {
    this.stack = stack;
  }

  @Override
  public String name() {
    return "retrain";
  }

  @Override
  public String summary() {
    return "a new run from an earlier run's spec (new dataset, overrides), now and/or on a schedule";
  }

  @Override
  public String epilog() {
    return "examples:\n"
        + "  loraflow retrain --from-run finetune-faq-1 --dataset s3://loraflow/data/faq-v2.jsonl\n"
        + "  loraflow retrain --from-version loraflow-smollm2-135m-instruct@champion"
        + " --set training.epochs=2\n"
        + "  loraflow retrain --from-run finetune-faq-1 --cron \"0 3 * * *\" --no-run-now\n"
        + "(--set values are JSON when they parse as JSON, else text: --set template=chat)";
  }

  @Override
  public void configure(Subparser p) {
    MutuallyExclusiveGroup source = p.addMutuallyExclusiveGroup("source").required(true);
    source.addArgument("--from-run").metavar("RUN_ID").help("the run whose spec to start from");
    source
        .addArgument("--from-version")
        .metavar("REF")
        .help("a registered adapter version: <name>@<alias>, models:/<name>/<version>");
    p.addArgument("--dataset").metavar("URI").help("new dataset (default: the source run's)");
    p.addArgument("--set")
        .action(Arguments.append())
        .metavar("FIELD=VALUE")
        .help("override a spec field, e.g. training.epochs=3 (repeatable)");
    p.addArgument("--name").metavar("NAME").help("run name of the new run");
    p.addArgument("--cron")
        .action(Arguments.append())
        .metavar("EXPR")
        .help(
            "also schedule it: cron expression, UTC (repeatable): minute hour day-of-month month"
                + " day-of-week [year]; *, values, ranges a-b, lists, steps /n, JAN-DEC, SUN-SAT,"
                + " e.g. \"*/15 9-17 * * MON-FRI\" or @daily");
    p.addArgument("--every")
        .action(Arguments.append())
        .metavar("INTERVAL")
        .help("also schedule it: every 24h, 90m, 7d ... (repeatable)");
    p.addArgument("--schedule-id").metavar("ID").help("schedule id (default retrain-<source>)");
    p.addArgument("--no-run-now")
        .action(Arguments.storeTrue())
        .help("only create or update the schedule, start nothing now");
    p.addArgument("--key").metavar("K").help("idempotency key of the run started now");
  }

  @Override
  public int run(Namespace a, Console console) {
    RetrainRequest request = request(a);
    try (StackSession s = stack.open(console.env())) {
      RetrainResponse response = s.retrainer().retrain(request, a.getString("key"));
      print(response, console.out());
    }
    return ExitCodes.OK;
  }

  /** The request the arguments describe; a usage error lists every constraint it breaks. */
  static RetrainRequest request(Namespace a) {
    List<String> cron = a.getList("cron");
    List<String> every = a.getList("every");
    RetrainRequest.ScheduleRequest schedule =
        cron == null && every == null && a.getString("schedule_id") == null
            ? null
            : new RetrainRequest.ScheduleRequest(a.getString("schedule_id"), cron, every);
    RetrainRequest request =
        new RetrainRequest(
            a.getString("from_run"),
            a.getString("from_version"),
            a.getString("dataset"),
            overrides(a.getList("set")),
            a.getString("name"),
            schedule,
            !a.getBoolean("no_run_now"));
    TreeSet<String> problems = new TreeSet<>();
    for (ConstraintViolation<RetrainRequest> v : Validators.newValidator().validate(request)) {
      String path = v.getPropertyPath().toString();
      problems.add(
          (path.isEmpty() || path.startsWith("oneSource") || path.startsWith("somethingToDo")
                  ? ""
                  : option(path) + " ")
              + v.getMessage());
    }
    if (!problems.isEmpty()) {
      throw new UsageException(String.join("; ", problems));
    }
    return request;
  }

  /** {@code training.epochs=3} -> {@code {"training": {"epochs": 3}}}, merged over every --set. */
  static ObjectNode overrides(List<String> sets) {
    if (sets == null) {
      return null;
    }
    ObjectNode root = JSON.createObjectNode();
    for (String set : sets) {
      int eq = set.indexOf('=');
      if (eq <= 0) {
        throw new UsageException("--set needs FIELD=VALUE, got '" + set + "'");
      }
      String[] path = set.substring(0, eq).strip().split("\\.");
      String raw = set.substring(eq + 1);
      JsonNode value;
      try {
        value = JSON.readTree(raw);
        if (value == null || value.isMissingNode()) {
          value = JSON.getNodeFactory().textNode(raw);
        }
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        value = JSON.getNodeFactory().textNode(raw);
      }
      ObjectNode node = root;
      for (int i = 0; i < path.length - 1; i++) {
        JsonNode child = node.get(path[i]);
        node = child instanceof ObjectNode o ? o : node.putObject(path[i]);
      }
      node.set(path[path.length - 1], value);
    }
    return root;
  }

  private static String option(String property) {
    return switch (property.replaceAll("\\[\\d+].*", "").replaceAll("<.*", "")) {
      case "schedule.id" -> "--schedule-id";
      case "schedule.every" -> "--every";
      case "schedule.cron" -> "--cron";
      case "schedule", "schedule.timed" -> "schedule:";
      default -> property;
    };
  }

  static void print(RetrainResponse r, PrintStream out) {
    out.println("retrain from " + r.sourceRun());
    if (r.run() != null) {
      out.println(
          "  "
              + (r.run().created() ? "started " : "already started (same key) ")
              + r.run().runId()
              + "   follow it: loraflow status "
              + r.run().runId()
              + " --follow");
    }
    if (r.schedule() != null) {
      out.println(
          "  schedule "
              + r.schedule().scheduleId()
              + (r.schedule().created() ? " created" : " updated")
              + "; next runs "
              + String.join(", ", r.schedule().nextRuns()));
    }
    out.println(
        "  spec     dataset "
            + r.spec().dataset()
            + ", base model "
            + r.spec().baseModel()
            + ", epochs "
            + r.spec().training().epochs()
            + ", lr "
            + r.spec().training().learningRate());
  }
}
