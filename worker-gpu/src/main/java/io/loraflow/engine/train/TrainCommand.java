package io.loraflow.engine.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.loraflow.activities.dataset.DatasetParser;
import io.loraflow.activities.dataset.QaPair;
import io.loraflow.activities.prompts.EvalPrompt;
import io.loraflow.activities.prompts.FormattedSplits;
import io.loraflow.activities.prompts.PromptFormatter;
import io.loraflow.activities.prompts.PromptTemplate;
import io.loraflow.activities.prompts.TokenizedExample;
import io.loraflow.activities.scoring.RougeL;
import io.loraflow.engine.generate.GenerationConfig;
import io.loraflow.engine.generate.Generator;
import io.loraflow.engine.generate.TokenCodec;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.lora.BaseFormat;
import io.loraflow.engine.lora.LoraLinearFactory;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.session.ModelSession;
import io.loraflow.engine.tokenizer.TextTokenizer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * {@code loraflow train}: QLoRA on a question/answer file, no Temporal needed.
 *
 * <pre>
 * loraflow train --model DIR|FILE.gguf --data faq.json|faq.jsonl|tokenized.jsonl --out adapter/
 *   [--epochs 1] [--lr 2e-4] [--r 16] [--alpha 32] [--dropout 0.05] [--targets a,b|all-linear]
 *   [--max-seq-len 512] [--seed 42] [--precision fp16|fp32] [--batch-size 1] [--grad-accum 1]
 *   [--optimizer adamw8bit|adamw] [--base nf4|nf4-plain|dense] [--no-grad-checkpointing]
 *   [--eval-fraction 0.1] [--template default|chat|"..{q}..{a}"] [--checkpoint-every 20]
 *   [--checkpoint-dir DIR] [--resume] [--compare 5] [--device cpu|gpu] [--keep-dequantized]
 * </pre>
 *
 * --keep-dequantized keeps each NF4 weight dequantized between calls (same numbers, 4x the base
 * memory in fp16, no per-call dequantization): worth it for small models on CPU.
 *
 * <p>A QA file is split (seeded) into train/eval and tokenized with the model's tokenizer by the
 * pipeline's PromptFormatter; a tokenized JSONL (CONTRACTS.md) trains as is. Every argument is
 * validated, and the LoRA targets and sequence length are checked against the model's headers,
 * before any weight is read. SIGTERM writes a checkpoint and exits; --resume continues from the
 * newest complete checkpoint. --compare N prints greedy answers of N held-out questions before and
 * after training with ROUGE-L.
 */
public final class TrainCommand {

  private TrainCommand() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command; returns the process exit code (0 ok, 2 bad input, 1 failure). */
  public static int run(String[] args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    Options o;
    try {
      o = Options.parse(args);
    } catch (IllegalArgumentException e) {
      err.println("loraflow train: " + e.getMessage());
      err.println(USAGE);
      return 2;
    }
    try {
      return train(o, out, err);
    } catch (IllegalArgumentException
        | io.loraflow.engine.io.ModelFormatException
        | io.loraflow.engine.model.ModelLoadException
        | io.loraflow.activities.dataset.DatasetException e) {
      err.println("loraflow train: " + e.getMessage());
      return 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("loraflow train: interrupted");
      return 130;
    } catch (Exception e) {
      err.println("loraflow train: failed: " + e);
      e.printStackTrace(err);
      return 1;
    }
  }

  static final String USAGE =
      "usage: loraflow train --model DIR|FILE.gguf --data FILE --out DIR [--epochs N] [--lr X]"
          + " [--r N] [--alpha X] [--dropout X] [--targets a,b|all-linear] [--max-seq-len N]"
          + " [--seed N] [--precision fp16|fp32] [--batch-size N] [--grad-accum N]"
          + " [--optimizer adamw8bit|adamw] [--base nf4|nf4-plain|dense]"
          + " [--no-grad-checkpointing] [--eval-fraction F] [--template default|chat|TEXT]"
          + " [--checkpoint-every N] [--checkpoint-dir DIR] [--resume] [--compare N]"
          + " [--device cpu|gpu] [--keep-dequantized] [--packing]";

  private static int train(Options o, PrintStream out, PrintStream err) throws Exception {
    Device device = o.device;
    try (ModelFiles files = ModelFiles.open(o.model)) {
      List<String> linears = LinearModules.of(files.weights());
      o.config.validateAgainst(files.config(), linears, o.model.toString());
      Data data = loadData(o, files);
      out.printf(
          Locale.ROOT,
          "data: %d train / %d eval examples (%s)%n",
          data.train.size(),
          data.eval.size(),
          o.data);
      long t0 = System.nanoTime();
      try (ModelSession session =
          ModelSession.forTraining(files, o.config, device, o.model.toString())) {
        LoraLinearFactory factory = session.factory();
        CausalLM model = session.model();
        factory.keepDequantized(o.keepDequantized);
        out.printf(
            Locale.ROOT,
            "model: %s, %d LoRA modules, frozen linears %.1f MiB (%s), " + "loaded in %.1f s%n",
            o.model.getFileName(),
            factory.loraModules().size(),
            factory.baseBytes() / 1048576.0,
            o.config.baseFormat(),
            (System.nanoTime() - t0) / 1e9);
        Path checkpoints = o.checkpointDir != null ? o.checkpointDir : o.out.resolve("checkpoints");
        Optional<Path> previous = o.resume ? Checkpoint.newest(checkpoints) : Optional.empty();
        String baseName = o.model.getFileName().toString();
        try (Trainer trainer =
            previous.isPresent()
                ? Trainer.resume(
                    previous.get(), model, factory.loraModules(), linears, data.train, checkpoints)
                : new Trainer(
                    model,
                    factory.loraModules(),
                    linears,
                    o.config,
                    data.train,
                    checkpoints,
                    baseName)) {
          previous.ifPresent(p -> out.println("resuming from " + p));
          List<String> before = List.of();
          try (TextTokenizer tok = files.tokenizer()) {
            Generator generator =
                new Generator(model, device, TokenCodec.of(s -> tok.encode(s, true), tok::decode));
            List<EvalPrompt> compare =
                data.prompts.subList(0, Math.min(o.compare, data.prompts.size()));
            if (!compare.isEmpty() && previous.isEmpty()) {
              factory.keepDequantized(true); // generation: one dequantization, not one per token
              before = answers(generator, compare, files.eosTokenIds());
              factory.keepDequantized(o.keepDequantized);
            }
            double evalBefore = data.eval.isEmpty() ? Double.NaN : trainer.evaluate(data.eval);
            if (!data.eval.isEmpty()) {
              out.printf(Locale.ROOT, "eval loss before: %.4f%n", evalBefore);
            }
            TrainOutcome result = runWithSignals(trainer, err);
            if (result.stopped()) {
              out.println(
                  "stopped at step "
                      + result.steps()
                      + "; checkpoint "
                      + result.lastCheckpoint()
                      + " (rerun with --resume to continue)");
              return 0;
            }
            trainer.saveAdapter(o.out);
            out.println("adapter: " + o.out.toAbsolutePath());
            if (!data.eval.isEmpty()) {
              double evalAfter = trainer.evaluate(data.eval);
              out.printf(
                  Locale.ROOT,
                  "eval loss after: %.4f (%+.1f%%)%n",
                  evalAfter,
                  100 * (evalAfter - evalBefore) / evalBefore);
            }
            if (!compare.isEmpty()) {
              factory.keepDequantized(true);
              List<String> after = answers(generator, compare, files.eosTokenIds());
              printComparison(out, compare, before, after);
            }
          }
        }
      }
    }
    return 0;
  }

  /** Runs the trainer; a SIGTERM (JVM shutdown) asks it to checkpoint and waits for that. */
  private static TrainOutcome runWithSignals(Trainer trainer, PrintStream err) throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              trainer.requestStop();
              try {
                done.await(); // the JVM waits for the checkpoint before exiting
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "train-sigterm");
    Runtime.getRuntime().addShutdownHook(hook);
    ProgressBar bar = new ProgressBar(err);
    trainer.addProgressListener(bar);
    try {
      return trainer.run();
    } finally {
      bar.finish();
      done.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it returns once done is counted down
      }
    }
  }

  /** Greedy answers to all prompts in one batched generation (64 new tokens at most). */
  private static List<String> answers(
      Generator generator, List<EvalPrompt> prompts, List<Integer> eos) {
    var r =
        generator.generateText(
            prompts.stream().map(EvalPrompt::prompt).toList(),
            GenerationConfig.greedy(64).withEosTokenIds(eos),
            (b, id, text) -> {});
    return r.sequences().stream().map(g -> g.text().trim()).toList();
  }

  private static void printComparison(
      PrintStream out, List<EvalPrompt> prompts, List<String> before, List<String> after) {
    double sumBefore = 0;
    double sumAfter = 0;
    for (int i = 0; i < prompts.size(); i++) {
      EvalPrompt p = prompts.get(i);
      double rb =
          before.isEmpty() ? Double.NaN : RougeL.score(p.reference(), before.get(i)).fmeasure();
      double ra = RougeL.score(p.reference(), after.get(i)).fmeasure();
      sumBefore += rb;
      sumAfter += ra;
      out.println("### Q" + (i + 1) + ": " + p.question());
      out.println("reference: " + p.reference());
      if (!before.isEmpty()) {
        out.printf(Locale.ROOT, "before (ROUGE-L %.3f): %s%n", rb, before.get(i));
      }
      out.printf(Locale.ROOT, "after  (ROUGE-L %.3f): %s%n", ra, after.get(i));
    }
    out.printf(
        Locale.ROOT,
        "mean ROUGE-L: before %.3f, after %.3f%n",
        sumBefore / prompts.size(),
        sumAfter / prompts.size());
  }

  record Data(List<Example> train, List<Example> eval, List<EvalPrompt> prompts) {}

  private static Data loadData(Options o, ModelFiles files) throws Exception {
    if (!Files.isRegularFile(o.data)) {
      throw new IllegalArgumentException("data file " + o.data + " does not exist");
    }
    String text = Files.readString(o.data, StandardCharsets.UTF_8);
    String firstLine = text.strip().lines().findFirst().orElse("");
    if (firstLine.contains("\"input_ids\"")) {
      TokenizedDataset d = TokenizedDataset.read(o.data, o.config.maxSeqLen());
      return new Data(d.examples(), List.of(), List.of());
    }
    List<QaPair> pairs =
        new DatasetParser(20)
            .parse(text, "auto", o.data.getFileName().toString(), o.data.toString())
            .pairs();
    if (pairs.isEmpty()) {
      throw new IllegalArgumentException("data file " + o.data + " has no question/answer pair");
    }
    PromptTemplate template = PromptTemplate.resolve(o.template, files.chatTemplate().orElse(null));
    long eos = files.eosTokenIds().isEmpty() ? -1 : files.eosTokenIds().get(0);
    try (PromptFormatter f =
        PromptFormatter.open(files.tokenizerJson(), template, eos, o.config.maxSeqLen())) {
      FormattedSplits splits = f.format(pairs, o.evalFraction, o.config.seed());
      List<Example> train = examples(splits.train());
      if (train.isEmpty()) {
        throw new IllegalArgumentException(
            "data file "
                + o.data
                + " leaves no training example"
                + " after the eval split ("
                + pairs.size()
                + " pairs, --eval-fraction "
                + o.evalFraction
                + ")");
      }
      return new Data(train, examples(splits.eval()), splits.evalPrompts());
    }
  }

  private static List<Example> examples(List<TokenizedExample> tokenized) {
    List<Example> out = new ArrayList<>();
    for (TokenizedExample t : tokenized) {
      Example e = new Example(t.inputIds(), t.labels());
      if (e.targetTokens() > 0) {
        out.add(e);
      }
    }
    return out;
  }

  /** Parsed command line. */
  static final class Options {
    Path model;
    Path data;
    Path out;
    Path checkpointDir;
    boolean resume;
    boolean keepDequantized;
    double evalFraction = 0.1;
    String template = "default";
    int compare;
    Device device;
    TrainConfig config;

    static Options parse(String[] args) {
      Options o = new Options();
      TrainConfig.Builder b = TrainConfig.defaults().toBuilder();
      String deviceName = null;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        switch (a) {
          case "--resume" -> o.resume = true;
          case "--no-grad-checkpointing" -> b.gradientCheckpointing = false;
          case "--packing" -> b.packing = true;
          case "--keep-dequantized" -> o.keepDequantized = true;
          default -> {
            if (!a.startsWith("--") || i + 1 >= args.length) {
              throw new IllegalArgumentException("unexpected argument '" + a + "'");
            }
            String v = args[++i];
            switch (a) {
              case "--model" -> o.model = Path.of(v);
              case "--data" -> o.data = Path.of(v);
              case "--out" -> o.out = Path.of(v);
              case "--checkpoint-dir" -> o.checkpointDir = Path.of(v);
              case "--epochs" -> b.epochs = integer(a, v);
              case "--lr" -> b.learningRate = number(a, v);
              case "--r" -> b.loraR = integer(a, v);
              case "--alpha" -> b.loraAlpha = number(a, v);
              case "--dropout" -> b.loraDropout = number(a, v);
              case "--targets" -> b.targetModules = Arrays.asList(v.split(","));
              case "--max-seq-len" -> b.maxSeqLen = integer(a, v);
              case "--seed" -> b.seed = integer(a, v);
              case "--batch-size" -> b.batchSize = integer(a, v);
              case "--grad-accum" -> b.gradAccumulation = integer(a, v);
              case "--warmup-ratio" -> b.warmupRatio = number(a, v);
              case "--max-grad-norm" -> b.maxGradNorm = number(a, v);
              case "--checkpoint-every" -> b.checkpointEvery = integer(a, v);
              case "--log-every" -> b.logEvery = integer(a, v);
              case "--eval-fraction" -> o.evalFraction = number(a, v);
              case "--template" -> o.template = v;
              case "--compare" -> o.compare = integer(a, v);
              case "--device" -> deviceName = v;
              case "--precision" ->
                  b.precision =
                      switch (v) {
                        case "fp16" -> TrainConfig.Precision.FP16;
                        case "fp32" -> TrainConfig.Precision.FP32;
                        default ->
                            throw new IllegalArgumentException(
                                "--precision must be fp16 or fp32 (no bf16 in DJL), got " + v);
                      };
              case "--optimizer" ->
                  b.optimizer =
                      switch (v) {
                        case "adamw8bit", "paged_adamw_8bit" ->
                            TrainConfig.OptimizerKind.ADAMW_8BIT;
                        case "adamw" -> TrainConfig.OptimizerKind.ADAMW;
                        default ->
                            throw new IllegalArgumentException(
                                "--optimizer must be adamw8bit or adamw, got " + v);
                      };
              case "--base" ->
                  b.baseFormat =
                      switch (v) {
                        case "nf4" -> BaseFormat.NF4;
                        case "nf4-plain" -> BaseFormat.NF4_PLAIN_ABSMAX;
                        case "dense" -> BaseFormat.DENSE;
                        default ->
                            throw new IllegalArgumentException(
                                "--base must be nf4, nf4-plain or dense, got " + v);
                      };
              case "--schedule" ->
                  b.schedule = TrainConfig.Schedule.valueOf(v.toUpperCase(Locale.ROOT));
              default -> throw new IllegalArgumentException("unknown option " + a);
            }
          }
        }
      }
      for (Object[] req :
          new Object[][] {{"--model", o.model}, {"--data", o.data}, {"--out", o.out}}) {
        if (req[1] == null) {
          throw new IllegalArgumentException(req[0] + " is required");
        }
      }
      if (!(o.evalFraction >= 0 && o.evalFraction < 1)) {
        throw new IllegalArgumentException(
            "--eval-fraction must be in [0, 1), got " + o.evalFraction);
      }
      if (deviceName == null) {
        o.device = Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
      } else {
        o.device =
            switch (deviceName) {
              case "cpu" -> Device.cpu();
              case "gpu" -> Device.gpu();
              default ->
                  throw new IllegalArgumentException(
                      "--device must be cpu or gpu, got " + deviceName);
            };
      }
      if (!o.device.isGpu() && !Arrays.asList(args).contains("--precision")) {
        b.precision = TrainConfig.Precision.FP32; // fp16 matmuls on CPU are slow and gain nothing
      }
      o.config = b.build();
      return o;
    }

    private static int integer(String flag, String v) {
      try {
        return Integer.parseInt(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(flag + " needs an integer, got '" + v + "'");
      }
    }

    private static double number(String flag, String v) {
      try {
        return Double.parseDouble(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(flag + " needs a number, got '" + v + "'");
      }
    }
  }

  /** A one-line text progress bar on stderr. */
  static final class ProgressBar implements TrainProgress {
    private final PrintStream err;
    private final long start = System.nanoTime();

    ProgressBar(PrintStream err) {
      this.err = err;
    }

    @Override
    public void onStep(StepMetrics m) {
      int width = 30;
      int filled = (int) (width * m.step() / Math.max(1, m.totalSteps()));
      double elapsed = (System.nanoTime() - start) / 1e9;
      double eta = elapsed / m.step() * (m.totalSteps() - m.step());
      err.printf(
          Locale.ROOT,
          "\r[%s%s] %d/%d loss %.4f lr %.2e gnorm %.3f scale %.0f %.0f tok/s"
              + " mem %.0f MiB eta %.0fs%s",
          "#".repeat(filled),
          ".".repeat(width - filled),
          m.step(),
          m.totalSteps(),
          m.loss(),
          m.learningRate(),
          m.gradNorm(),
          m.lossScale(),
          m.tokensPerSecond(),
          m.memoryBytes() / 1048576.0,
          eta,
          m.skipped() ? " (skipped)" : "");
      err.flush();
    }

    void finish() {
      err.println();
    }
  }
}
