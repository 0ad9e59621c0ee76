package io.loraflow.activities.prompts;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.activities.dataset.DatasetConfig;
import io.loraflow.activities.dataset.DatasetException;
import io.loraflow.activities.dataset.DatasetPreparer;
import io.loraflow.activities.dataset.PreparedDataset;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code loraflow prompts}: what prepareDataset + formatPrompts do, on local files, without the
 * stack. Writes {@code data.jsonl}, {@code train.jsonl}, {@code eval.jsonl}, {@code
 * eval-prompts.jsonl} and {@code stats.json} into {@code --out}.
 *
 * <pre>
 * --dataset URI          file:/..., https://..., hf://datasets/..., builtin:ecommerce-faq (required)
 * --tokenizer PATH       tokenizer.json of the base model (required)
 * --eos ID               EOS token id appended to answers (required unless --template chat)
 * --out DIR              output directory (required)
 * --format F             auto|nested-json|jsonl|csv|alpaca|chat (default auto)
 * --template T           default|chat|custom "...{q}...{a}" (default "default")
 * --chat-template PATH   file with the model's chat template (for --template chat)
 * --max-seq-len N        (default 512)   --eval-fraction F (default 0.1)   --seed S (default 42)
 * </pre>
 *
 * {@code file:} datasets are read from anywhere the user can read (a local command, not a worker).
 */
public final class PromptsCommand {

  private PromptsCommand() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Exit code 0 on success, 2 on bad arguments or data (message on stderr). */
  public static int run(String[] args) {
    return run(args, System.out, System.err);
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        err.println(
            "usage: loraflow prompts --dataset URI --tokenizer tokenizer.json --eos ID"
                + " --out DIR [--format F] [--template T] [--chat-template FILE] [--max-seq-len N]"
                + " [--eval-fraction F] [--seed S]; bad argument '"
                + args[i]
                + "'");
        return 2;
      }
      a.put(args[i].substring(2), args[++i]);
    }
    for (String required : List.of("dataset", "tokenizer", "out")) {
      if (!a.containsKey(required)) {
        err.println("missing --" + required);
        return 2;
      }
    }
    try {
      String chatTemplate =
          a.containsKey("chat-template") ? Files.readString(Path.of(a.get("chat-template"))) : null;
      PromptTemplate template =
          PromptTemplate.resolve(a.getOrDefault("template", "default"), chatTemplate);
      Path tokenizer = Path.of(a.get("tokenizer"));
      Path outDir = Files.createDirectories(Path.of(a.get("out")));
      PreparedDataset data =
          new DatasetPreparer(DatasetConfig.defaults(List.of(Path.of("/"))), null)
              .prepare(a.get("dataset"), a.getOrDefault("format", "auto"));
      Files.write(outDir.resolve("data.jsonl"), data.jsonl());
      long eos;
      if (a.containsKey("eos")) {
        eos = Long.parseLong(a.get("eos"));
      } else {
        eos = PromptFormatter.answerEosId(tokenizer, template, List.of());
        if (eos < 0) {
          err.println("missing --eos (the model's EOS token id)");
          return 2;
        }
      }
      int maxSeqLen = Integer.parseInt(a.getOrDefault("max-seq-len", "512"));
      FormattedSplits splits;
      try (PromptFormatter f = PromptFormatter.open(tokenizer, template, eos, maxSeqLen)) {
        splits =
            f.format(
                data.pairs(),
                Double.parseDouble(a.getOrDefault("eval-fraction", "0.1")),
                Long.parseLong(a.getOrDefault("seed", "42")));
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
