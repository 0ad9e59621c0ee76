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
import io.loraflow.commandline.Command;
import io.loraflow.commandline.CommandLine;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import io.loraflow.commandline.UsageException;
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
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.ArgumentGroup;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code loraflow train}: QLoRA on a question/answer file, no Temporal needed.
 *
 * <p>Its options are declared in {@link #configure} ({@code loraflow train --help} prints them).
 *
 * <p>--keep-dequantized keeps each NF4 weight dequantized between calls (same numbers, 4x the base
 * memory in fp16, no per-call dequantization): worth it for small models on CPU.
 *
 * <p>A QA file is split (seeded) into train/eval and tokenized with the model's tokenizer by the
 * pipeline's PromptFormatter; a tokenized JSONL (CONTRACTS.md) trains as is. Every argument is
 * validated, and the LoRA targets and sequence length are checked against the model's headers,
 * before any weight is read. SIGTERM writes a checkpoint and exits; --resume continues from the
 * newest complete checkpoint. --compare N prints greedy answers of N held-out questions before and
 * after training with ROUGE-L.
 */
public final class TrainCommand implements Command {

  @Override
  public String name() {
    return "train";
  }

  @Override
  public String summary() {
    return "QLoRA training on local files, no stack needed";
  }

  @Override
  public String description() {
    return "QLoRA on a question/answer file (JSON, JSONL, CSV, alpaca, chat) or a tokenized JSONL,"
        + " no Temporal needed. Every value is checked, and the LoRA targets and sequence length"
        + " against the model's headers, before any weight is read. SIGTERM writes a checkpoint"
        + " and exits; --resume continues from the newest complete checkpoint.";
  }

  @Override
  public String epilog() {
    return "examples:\n"
        + "  loraflow train --model ~/.cache/loraflow/models/SmolLM2-135M-Instruct.Q4_1.gguf \\\n"
        + "      --data faq.json --out adapter/ --compare 4\n"
        + "  loraflow train --model llama-dir/ --data tokenized.jsonl --out a/ --resume\n"
        + "exit codes: 0 trained (or stopped with a checkpoint); 2 bad arguments, model or data;\n"
        + "  1 failed; 130 interrupted";
  }

  @Override
  public void configure(Subparser p) {
    TrainConfig d = TrainConfig.defaults();
    ArgumentGroup io = p.addArgumentGroup("files");
    io.addArgument("--model").required(true).metavar("DIR|FILE.gguf").help("base model");
    io.addArgument("--data")
        .required(true)
        .metavar("FILE")
        .help("questions/answers (.json/.jsonl/.csv) or a tokenized JSONL (input_ids, labels)");
    io.addArgument("--out").required(true).metavar("DIR").help("adapter directory to write");
    io.addArgument("--checkpoint-dir")
        .metavar("DIR")
        .help("checkpoints (default: OUT/checkpoints)");
    io.addArgument("--resume")
        .action(Arguments.storeTrue())
        .help("continue from the newest complete checkpoint");
    ArgumentGroup lora = p.addArgumentGroup("LoRA and training");
    lora.addArgument("--epochs").type(Integer.class).setDefault(d.epochs()).help("epochs");
    lora.addArgument("--lr").type(Double.class).setDefault(d.learningRate()).help("peak LR");
    lora.addArgument("--schedule")
        .choices("cosine", "linear", "constant")
        .setDefault(d.schedule().name().toLowerCase(Locale.ROOT))
        .help("LR schedule after warmup");
    lora.addArgument("--warmup-ratio")
        .type(Double.class)
        .setDefault(d.warmupRatio())
        .help("fraction of steps in linear warmup");
    lora.addArgument("--max-grad-norm")
        .type(Double.class)
        .setDefault(d.maxGradNorm())
        .help("gradient clipping norm");
    lora.addArgument("--r").type(Integer.class).setDefault(d.loraR()).help("LoRA rank");
    lora.addArgument("--alpha").type(Double.class).setDefault(d.loraAlpha()).help("LoRA alpha");
    lora.addArgument("--dropout")
        .type(Double.class)
        .setDefault(d.loraDropout())
        .help("LoRA dropout");
    lora.addArgument("--targets")
        .metavar("a,b|all-linear")
        .help("modules to adapt (default: the model family's)");
    lora.addArgument("--max-seq-len")
        .type(Integer.class)
        .setDefault(d.maxSeqLen())
        .help("tokens per example");
    lora.addArgument("--seed").type(Integer.class).setDefault((int) d.seed()).help("seed");
    lora.addArgument("--batch-size").type(Integer.class).setDefault(d.batchSize()).help("batch");
    lora.addArgument("--grad-accum")
        .type(Integer.class)
        .setDefault(d.gradAccumulation())
        .help("micro-batches per optimizer step");
    lora.addArgument("--optimizer")
        .choices("adamw8bit", "paged_adamw_8bit", "adamw")
        .setDefault("adamw8bit")
        .help("optimizer");
    lora.addArgument("--precision")
        .choices("fp16", "fp32")
        .help("compute precision (default fp16 on GPU, fp32 on CPU; no bf16 in DJL)");
    lora.addArgument("--base")
        .choices("nf4", "nf4-plain", "dense")
        .setDefault("nf4")
        .help("frozen base weights: NF4 with double quantization, NF4 with fp32 absmax, or dense");
    lora.addArgument("--no-grad-checkpointing")
        .action(Arguments.storeTrue())
        .help("keep activations instead of recomputing them");
    lora.addArgument("--no-cuda-graphs")
        .action(Arguments.storeTrue())
        .help("GPU fast path: issue each micro-step op by op instead of replaying a CUDA graph");
    lora.addArgument("--packing").action(Arguments.storeTrue()).help("pack examples per row");
    lora.addArgument("--checkpoint-every")
        .type(Integer.class)
        .setDefault(d.checkpointEvery())
        .help("checkpoint every N steps");
    lora.addArgument("--log-every")
        .type(Integer.class)
        .setDefault(d.logEvery())
        .help("metrics every N steps");
    ArgumentGroup run = p.addArgumentGroup("data and output");
    run.addArgument("--eval-fraction")
        .type(Double.class)
        .setDefault(0.1)
        .help("held-out fraction of a QA file, in [0, 1)");
    run.addArgument("--template")
        .setDefault("default")
        .metavar("default|chat|TEXT")
        .help("prompt template (TEXT with {q} and {a})");
    run.addArgument("--compare")
        .type(Integer.class)
        .setDefault(0)
        .metavar("N")
        .help("print greedy answers to N held-out questions before and after, with ROUGE-L");
    run.addArgument("--compare-seen")
        .type(Integer.class)
        .setDefault(0)
        .metavar("N")
        .help(
            "also N training (seen) questions, picked by --seed, before and after, with ROUGE-L"
                + " (what a support bot is asked every day)");
    run.addArgument("--max-new-tokens")
        .type(Integer.class)
        .setDefault(64)
        .metavar("N")
        .help("generation budget of each --compare/--compare-seen answer");
    run.addArgument("--device")
        .choices("cpu", "gpu")
        .help("where to train (default: gpu when there is one)");
    run.addArgument("--metrics")
        .metavar("FILE")
        .help("also write one JSON line per optimizer step to FILE (step, loss, tok/s, memory)");
    run.addArgument("--keep-dequantized")
        .action(Arguments.storeTrue())
        .help("keep NF4 weights dequantized between calls (4x base memory; fast on small models)");
  }

  @Override
  public int run(Namespace args, Console console) {
    PrintStream out = console.out();
    PrintStream err = console.err();
    Options o;
    try {
      o = Options.from(args);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    try {
      return train(o, out, err);
    } catch (IllegalArgumentException
        | io.loraflow.engine.io.ModelFormatException
        | io.loraflow.engine.model.ModelLoadException
        | io.loraflow.activities.dataset.DatasetException e) {
      err.println("loraflow train: " + e.getMessage());
      return ExitCodes.USAGE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("loraflow train: interrupted");
      return ExitCodes.INTERRUPTED;
    } catch (Exception e) {
      err.println("loraflow train: failed: " + e);
      e.printStackTrace(err);
      return ExitCodes.FAILED;
    }
  }

  /** {@code java -cp ... TrainCommand ARGS}: the same as loraflow train. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** {@code loraflow train ARGS} on this process's streams; returns the exit code. */
  public static int run(String[] args) {
    return CommandLine.single(new TrainCommand()).execute(args, Console.system());
  }

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
            List<EvalPrompt> seen = seenSample(data.trainPrompts, o.compareSeen, o.config.seed());
            GenerationConfig generation =
                GenerationConfig.greedy(o.maxNewTokens).withEosTokenIds(files.eosTokenIds());
            List<String> seenBefore = List.of();
            if (previous.isEmpty() && !(compare.isEmpty() && seen.isEmpty())) {
              factory.keepDequantized(true); // generation: one dequantization, not one per token
              before = answers(generator, compare, generation);
              seenBefore = answers(generator, seen, generation);
              factory.keepDequantized(o.keepDequantized);
            }
            double evalBefore = data.eval.isEmpty() ? Double.NaN : trainer.evaluate(data.eval);
            if (!data.eval.isEmpty()) {
              out.printf(Locale.ROOT, "eval loss before: %.4f%n", evalBefore);
            }
            // held-out loss at every epoch end (the engine's EvalPolicy), as in a pipeline run:
            // the adapter written is the best by it
            trainer.setHeldOut(data.eval);
            trainer.addEvalListener(
                e ->
                    err.printf(
                        Locale.ROOT,
                        "%neval at step %d (epoch %d): held-out loss %.4f%s%n",
                        e.step(),
                        e.epoch() + 1,
                        e.loss(),
                        e.improved() ? " (best so far)" : ", best " + e.bestLoss()));
            TrainOutcome result;
            try (MetricsFile metrics = o.metrics == null ? null : new MetricsFile(o.metrics)) {
              if (metrics != null) {
                trainer.addProgressListener(metrics);
              }
              result = runWithSignals(trainer, err);
            }
            if (result.stopped()) {
              out.println(
                  "stopped at step "
                      + result.steps()
                      + "; checkpoint "
                      + result.lastCheckpoint()
                      + " (rerun with --resume to continue)");
              return 0;
            }
            trainer.savePublishedAdapter(o.out);
            out.println(
                "adapter: "
                    + o.out.toAbsolutePath()
                    + (result.bestStep() > 0
                        ? " (best held-out loss, step " + result.bestStep() + ")"
                        : ""));
            if (!data.eval.isEmpty()) {
              double evalAfter = trainer.evaluate(data.eval);
              out.printf(
                  Locale.ROOT,
                  "eval loss after: %.4f (%+.1f%%)%n",
                  evalAfter,
                  100 * (evalAfter - evalBefore) / evalBefore);
            }
            if (!(compare.isEmpty() && seen.isEmpty())) {
              factory.keepDequantized(true);
              if (result.bestStep() > 0 && result.bestStep() != result.steps()) {
                out.println(
                    "note: the answers below come from the last weights (step "
                        + result.steps()
                        + "); the adapter written is of step "
                        + result.bestStep());
              }
            }
            if (!compare.isEmpty()) {
              out.println("== held-out questions");
              printComparison(out, compare, before, answers(generator, compare, generation));
            }
            if (!seen.isEmpty()) {
              out.println("== seen (training) questions");
              printComparison(out, seen, seenBefore, answers(generator, seen, generation));
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

  /** Greedy answers to all prompts in one batched generation (none for no prompt). */
  private static List<String> answers(
      Generator generator, List<EvalPrompt> prompts, GenerationConfig generation) {
    if (prompts.isEmpty()) {
      return List.of();
    }
    var r =
        generator.generateText(
            prompts.stream().map(EvalPrompt::prompt).toList(), generation, (b, id, text) -> {});
    return r.sequences().stream().map(g -> g.text().trim()).toList();
  }

  /** {@code n} training questions picked by {@code seed}, in file order (all when n >= size). */
  static List<EvalPrompt> seenSample(List<EvalPrompt> train, int n, long seed) {
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < train.size(); i++) {
      idx.add(i);
    }
    Collections.shuffle(idx, new Random(seed));
    List<Integer> picked = new ArrayList<>(idx.subList(0, Math.min(n, idx.size())));
    Collections.sort(picked);
    return picked.stream().map(train::get).toList();
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

  /**
   * @param prompts the held-out questions as generation prompts
   * @param trainPrompts the training questions as generation prompts (empty for tokenized data)
   */
  record Data(
      List<Example> train,
      List<Example> eval,
      List<EvalPrompt> prompts,
      List<EvalPrompt> trainPrompts) {}

  private static Data loadData(Options o, ModelFiles files) throws Exception {
    if (!Files.isRegularFile(o.data)) {
      throw new IllegalArgumentException("data file " + o.data + " does not exist");
    }
    String text = Files.readString(o.data, StandardCharsets.UTF_8);
    String firstLine = text.strip().lines().findFirst().orElse("");
    if (firstLine.contains("\"input_ids\"")) {
      TokenizedDataset d = TokenizedDataset.read(o.data, o.config.maxSeqLen());
      return new Data(d.examples(), List.of(), List.of(), List.of());
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
      return new Data(train, examples(splits.eval()), splits.evalPrompts(), splits.trainPrompts());
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
    Path metrics;
    double evalFraction = 0.1;
    String template = "default";
    int compare;
    int compareSeen;
    int maxNewTokens = 64;
    Device device;
    TrainConfig config;

    static Options from(Namespace a) {
      Options o = new Options();
      TrainConfig.Builder b = TrainConfig.defaults().toBuilder();
      o.model = Path.of(a.getString("model"));
      o.data = Path.of(a.getString("data"));
      o.out = Path.of(a.getString("out"));
      String checkpoints = a.getString("checkpoint_dir");
      o.checkpointDir = checkpoints == null ? null : Path.of(checkpoints);
      o.resume = a.getBoolean("resume");
      o.keepDequantized = a.getBoolean("keep_dequantized");
      String metrics = a.getString("metrics");
      o.metrics = metrics == null ? null : Path.of(metrics);
      o.evalFraction = a.getDouble("eval_fraction");
      o.template = a.getString("template");
      o.compare = a.getInt("compare");
      o.compareSeen = a.getInt("compare_seen");
      o.maxNewTokens = a.getInt("max_new_tokens");
      if (o.compare < 0 || o.compareSeen < 0) {
        throw new IllegalArgumentException(
            "--compare and --compare-seen must be >= 0, got "
                + o.compare
                + " and "
                + o.compareSeen);
      }
      if (o.maxNewTokens < 1 || o.maxNewTokens > 8192) {
        throw new IllegalArgumentException(
            "--max-new-tokens must be in [1, 8192], got " + o.maxNewTokens);
      }
      b.epochs = a.getInt("epochs");
      b.learningRate = a.getDouble("lr");
      b.schedule = TrainConfig.Schedule.valueOf(a.getString("schedule").toUpperCase(Locale.ROOT));
      b.warmupRatio = a.getDouble("warmup_ratio");
      b.maxGradNorm = a.getDouble("max_grad_norm");
      b.loraR = a.getInt("r");
      b.loraAlpha = a.getDouble("alpha");
      b.loraDropout = a.getDouble("dropout");
      if (a.getString("targets") != null) {
        b.targetModules = Arrays.asList(a.getString("targets").split(","));
      }
      b.maxSeqLen = a.getInt("max_seq_len");
      b.seed = a.getInt("seed");
      b.batchSize = a.getInt("batch_size");
      b.gradAccumulation = a.getInt("grad_accum");
      b.checkpointEvery = a.getInt("checkpoint_every");
      b.logEvery = a.getInt("log_every");
      b.gradientCheckpointing = !a.getBoolean("no_grad_checkpointing");
      b.packing = a.getBoolean("packing");
      if (a.getBoolean("no_cuda_graphs")) {
        System.setProperty(io.loraflow.engine.nativeops.FastOps.GRAPHS_PROPERTY, "off");
      }
      b.optimizer =
          a.getString("optimizer").equals("adamw")
              ? TrainConfig.OptimizerKind.ADAMW
              : TrainConfig.OptimizerKind.ADAMW_8BIT;
      b.baseFormat =
          switch (a.getString("base")) {
            case "nf4-plain" -> BaseFormat.NF4_PLAIN_ABSMAX;
            case "dense" -> BaseFormat.DENSE;
            default -> BaseFormat.NF4;
          };
      if (!(o.evalFraction >= 0 && o.evalFraction < 1)) {
        throw new IllegalArgumentException(
            "--eval-fraction must be in [0, 1), got " + o.evalFraction);
      }
      String deviceName = a.getString("device");
      if (deviceName == null) {
        o.device = Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
      } else {
        o.device = deviceName.equals("gpu") ? Device.gpu() : Device.cpu();
      }
      String precision = a.getString("precision");
      if (precision != null) {
        b.precision =
            precision.equals("fp16") ? TrainConfig.Precision.FP16 : TrainConfig.Precision.FP32;
      } else if (!o.device.isGpu()) {
        b.precision = TrainConfig.Precision.FP32; // fp16 matmuls on CPU are slow and gain nothing
      }
      o.config = b.build();
      return o;
    }
  }

  /** One JSON line per optimizer step (machine-readable twin of the progress bar). */
  static final class MetricsFile implements TrainProgress, AutoCloseable {
    private final PrintStream file;

    MetricsFile(Path path) throws java.io.IOException {
      file =
          new PrintStream(
              java.nio.file.Files.newOutputStream(path),
              true,
              java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public void onStep(StepMetrics m) {
      file.printf(
          Locale.ROOT,
          "{\"step\":%d,\"total_steps\":%d,\"epoch\":%d,\"loss\":%s,\"lr\":%s,"
              + "\"grad_norm\":%s,\"loss_scale\":%s,\"skipped\":%b,\"tokens_per_s\":%s,"
              + "\"memory_bytes\":%d}%n",
          m.step(),
          m.totalSteps(),
          m.epoch(),
          json(m.loss()),
          json(m.learningRate()),
          json(m.gradNorm()),
          json(m.lossScale()),
          m.skipped(),
          json(m.tokensPerSecond()),
          m.memoryBytes());
    }

    private static String json(double v) {
      return Double.isFinite(v) ? Double.toString(v) : "null";
    }

    @Override
    public void close() {
      file.close();
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
