package io.loraflow.activities.prompts;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.activities.dataset.DatasetConfig;
import io.loraflow.activities.dataset.DatasetException;
import io.loraflow.activities.dataset.DatasetPreparer;
import io.loraflow.activities.dataset.PreparedDataset;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.CommandLine;
import io.loraflow.commandline.Console;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code loraflow prompts}: what prepareDataset + formatPrompts do, on local files, without the
 * stack. Writes {@code data.jsonl}, {@code train.jsonl}, {@code eval.jsonl}, {@code
 * eval-prompts.jsonl} and {@code stats.json} into {@code --out}. Its options are declared in {@link
 * #configure} ({@code loraflow prompts --help}).
 *
 * <p>{@code file:} datasets are read from anywhere the user can read (a local command, not a
 * worker).
 */
public final class PromptsCommand implements Command {

  @Override
  public String name() {
    return "prompts";
  }

  @Override
  public String summary() {
    return "prepareDataset + formatPrompts on local files, no stack needed";
  }

  @Override
  public String epilog() {
    return "writes data.jsonl, train.jsonl, eval.jsonl, eval-prompts.jsonl and stats.json into"
        + " --out\n"
        + "example:\n"
        + "  loraflow prompts --dataset builtin:ecommerce-faq --tokenizer smol/tokenizer.json"
        + " --eos 2 --out prompts/";
  }

  @Override
  public void configure(Subparser p) {
    p.addArgument("--dataset")
        .required(true)
        .metavar("URI")
        .help("file:/..., https://..., hf://datasets/..., builtin:ecommerce-faq");
    p.addArgument("--tokenizer")
        .required(true)
        .metavar("PATH")
        .help("tokenizer.json of the base model");
    p.addArgument("--eos")
        .type(Long.class)
        .metavar("ID")
        .help("EOS token id appended to answers (default: from the tokenizer and template)");
    p.addArgument("--out").required(true).metavar("DIR").help("output directory");
    p.addArgument("--format")
        .choices("auto", "nested-json", "jsonl", "csv", "alpaca", "chat")
        .setDefault("auto")
        .help("dataset format");
    p.addArgument("--template")
        .setDefault("default")
        .metavar("default|chat|TEXT")
        .help("prompt template (TEXT with {q} and {a})");
    p.addArgument("--chat-template")
        .metavar("PATH")
        .help("file with the model's chat template (for --template chat)");
    p.addArgument("--max-seq-len").type(Integer.class).setDefault(512).help("tokens per example");
    p.addArgument("--eval-fraction").type(Double.class).setDefault(0.1).help("held-out fraction");
    p.addArgument("--seed").type(Long.class).setDefault(42L).help("split seed");
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Exit code 0 on success, 2 on bad arguments or data (message on stderr). */
  public static int run(String[] args) {
    return run(args, System.out, System.err);
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    return CommandLine.single(new PromptsCommand())
        .execute(args, new Console(out, err, System.getenv()));
  }

  @Override
  public int run(Namespace a, Console console) {
    PrintStream out = console.out();
    PrintStream err = console.err();
    try {
      String chatTemplate =
          a.getString("chat_template") == null
              ? null
              : Files.readString(Path.of(a.getString("chat_template")));
      PromptTemplate template = PromptTemplate.resolve(a.getString("template"), chatTemplate);
      Path tokenizer = Path.of(a.getString("tokenizer"));
      Path outDir = Files.createDirectories(Path.of(a.getString("out")));
      PreparedDataset data =
          new DatasetPreparer(DatasetConfig.defaults(List.of(Path.of("/"))), null)
              .prepare(a.getString("dataset"), a.getString("format"));
      Files.write(outDir.resolve("data.jsonl"), data.jsonl());
      long eos;
      if (a.get("eos") != null) {
        eos = a.getLong("eos");
      } else {
        eos = PromptFormatter.answerEosId(tokenizer, template, List.of());
        if (eos < 0) {
          err.println("missing --eos (the model's EOS token id)");
          return 2;
        }
      }
      int maxSeqLen = a.getInt("max_seq_len");
      FormattedSplits splits;
      try (PromptFormatter f = PromptFormatter.open(tokenizer, template, eos, maxSeqLen)) {
        splits = f.format(data.pairs(), a.getDouble("eval_fraction"), a.getLong("seed"));
      }
      try (OutputStream o = Files.newOutputStream(outDir.resolve("train.jsonl"))) {
        PromptFormatter.writeTokenized(splits.train(), o);
      }
      try (OutputStream o = Files.newOutputStream(outDir.resolve("eval.jsonl"))) {
        PromptFormatter.writeTokenized(splits.eval(), o);
      }
      try (OutputStream o = Files.newOutputStream(outDir.resolve("eval-prompts.jsonl"))) {
        PromptFormatter.writeEvalPrompts(splits.evalPrompts(), o);
      }
      ObjectMapper json = new ObjectMapper();
      Files.write(
          outDir.resolve("stats.json"),
          json.writerWithDefaultPrettyPrinter()
              .writeValueAsBytes(
                  Map.of(
                      "dataset",
                      data.stats(),
                      "prompts",
                      splits.stats(),
                      "sha256",
                      data.sha256())));
      out.println(
          "dataset "
              + data.sha256().substring(0, 12)
              + ": "
              + data.pairs().size()
              + " pairs -> train "
              + splits.train().size()
              + ", eval "
              + splits.eval().size()
              + " (mean "
              + Math.round(splits.stats().meanLength())
              + " tokens, max "
              + splits.stats().maxLength()
              + ", truncated "
              + splits.stats().truncated()
              + ") in "
              + outDir);
      return 0;
    } catch (DatasetException e) {
      err.println(e.type() + ": " + e.getMessage());
      return 2;
    } catch (IllegalArgumentException | IOException e) {
      err.println(e.getMessage());
      return 2;
    }
  }
}
