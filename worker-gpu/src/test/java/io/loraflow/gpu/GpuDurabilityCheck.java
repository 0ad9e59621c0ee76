package io.loraflow.gpu;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.util.cuda.CudaUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.activities.dataset.DatasetConfig;
import io.loraflow.activities.dataset.DatasetPreparer;
import io.loraflow.activities.dataset.PreparedDataset;
import io.loraflow.activities.prompts.EvalPrompt;
import io.loraflow.activities.prompts.FormattedSplits;
import io.loraflow.activities.prompts.PromptFormatter;
import io.loraflow.activities.prompts.PromptTemplate;
import io.loraflow.engine.generate.GenerationConfig;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.nativeops.FastOps;
import io.loraflow.engine.session.ModelSession;
import io.loraflow.engine.train.Checkpoint;
import io.loraflow.engine.train.Example;
import io.loraflow.engine.train.MemoryProbe;
import io.loraflow.engine.train.TokenizedDataset;
import io.loraflow.engine.train.TrainConfig;
import io.loraflow.engine.train.TrainOutcome;
import io.loraflow.infra.TokenizerFlavor;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.TrainingSpec;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The GPU side of issue 9's checks, on a host that has a GPU and a JVM but no Temporal, MinIO or
 * MLflow: the GPU worker's own cores on the real SmolLM2 GGUF and the sample FAQ. The formatting is
 * the CPU step's ({@link PromptFormatter}), training is {@link EngineSession#open} with the
 * activity's {@link OutOfMemory#withFallback} loop and a local stand-in for the checkpoint store
 * (published checkpoints, the newest complete one resumed), the evaluation is {@link
 * EvalActivity#evaluate}. bench/gpu/durability-call.sh drives the modes and kills the process.
 *
 * <pre>
 * GpuDurabilityCheck prepare --model GGUF --work DIR
 * GpuDurabilityCheck train   --model GGUF --work DIR --name a [--epochs 2 --batch 4 --grad-accum 1
 *     --checkpoint-every 10 --eval-every 10 --train-limit N --inject-oom-above B]
 * GpuDurabilityCheck eval    --model GGUF --work DIR --adapter DIR --out FILE.json [--prompts 8]
 * GpuDurabilityCheck verify-resume --a a.jsonl --killed b1.jsonl --resumed b2.jsonl [--tol 0.02]
 * GpuDurabilityCheck oom     --model GGUF --work DIR [--part fallback|one --batch 64 --headroom-mib N]
 *     (on a CPU the allocator error is injected)
 * GpuDurabilityCheck soak    --model GGUF --work DIR [--runs 20 --train-limit 12]
 * GpuDurabilityCheck hang    --model GGUF --work DIR --name h [--hang-at-step 12 --hang-seconds 40
 *     --stall-floor 5] (GPU: a spinning kernel stands for a hung CUDA call)
 * </pre>
 *
 * Every mode prints JSON lines ({@code "event"}) and one {@code "check"} line with {@code "pass"}.
 * Common options: {@code --device cpu|gpu} (default gpu when there is one).
 */
public final class GpuDurabilityCheck {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String BASE_MODEL = "smollm2-135m-instruct";
  static final long SEED = 42;

  private GpuDurabilityCheck() {}

  public static void main(String[] argv) throws Exception {
    // what GpuActivitiesImpl does first: the CPU tokenizer library, never a CUDA download
    String envFlavor = System.getenv("RUST_FLAVOR");
    TokenizerFlavor.useCpuUnlessSet();
    if (argv.length == 0) {
      throw new IllegalArgumentException("usage: GpuDurabilityCheck MODE --option value ...");
    }
    Map<String, String> o = options(argv);
    Device device =
        argv[0].equals("verify-resume") // reads logs only: no engine to start
            ? Device.cpu()
            : ModelSession.device(o.getOrDefault("device", "auto"));
    emit(
        "start",
        "mode",
        argv[0],
        "device",
        device.toString(),
        "rust_flavor_env",
        envFlavor == null ? "" : envFlavor,
        "rust_flavor_effective",
        TokenizerFlavor.effective(),
        "path",
        FastOps.describe(device));
    int rc =
        switch (argv[0]) {
          case "prepare" -> prepare(o);
          case "train" -> train(o, device);
          case "eval" -> eval(o, device);
          case "verify-resume" -> verifyResume(o);
          case "oom" -> oom(o, device);
          case "soak" -> soak(o, device);
          case "hang" -> hang(o, device);
          default -> throw new IllegalArgumentException("unknown mode " + argv[0]);
        };
    System.exit(rc);
  }

  // ---------------------------------------------------------------- prepare (the CPU steps)

  /** prepareDataset + formatPrompts on local files: the four JSONL files the GPU steps read. */
  static int prepare(Map<String, String> o) throws IOException {
    Path work = Files.createDirectories(Path.of(req(o, "work")));
    int maxSeqLen = Integer.parseInt(o.getOrDefault("max-seq-len", "512"));
    PreparedDataset data =
        new DatasetPreparer(DatasetConfig.defaults(List.of(work)), null)
            .prepare(o.getOrDefault("dataset", "builtin:ecommerce-faq"), "auto");
    try (ModelFiles files = ModelFiles.open(Path.of(req(o, "model")))) {
      PromptTemplate template =
          PromptTemplate.resolve(
              o.getOrDefault("template", "default"), files.chatTemplate().orElse(null));
      long eos = PromptFormatter.answerEosId(files.tokenizerJson(), template, files.eosTokenIds());
      FormattedSplits splits;
      try (PromptFormatter f =
          PromptFormatter.open(files.tokenizerJson(), template, eos, maxSeqLen)) {
        splits = f.format(data.pairs(), 0.1, SEED);
      }
      try (OutputStream out = Files.newOutputStream(work.resolve("train.jsonl"))) {
        PromptFormatter.writeTokenized(splits.train(), out);
      }
      try (OutputStream out = Files.newOutputStream(work.resolve("eval.jsonl"))) {
        PromptFormatter.writeTokenized(splits.eval(), out);
      }
      try (OutputStream out = Files.newOutputStream(work.resolve("eval-prompts.jsonl"))) {
        PromptFormatter.writeEvalPrompts(splits.evalPrompts(), out);
      }
      try (OutputStream out = Files.newOutputStream(work.resolve("train-prompts.jsonl"))) {
        PromptFormatter.writeEvalPrompts(splits.trainPrompts(), out);
      }
      check(
          "prepare",
          !splits.train().isEmpty() && !splits.eval().isEmpty(),
          "pairs",
          data.pairs().size(),
          "train",
          splits.train().size(),
          "eval",
          splits.eval().size(),
          "eos",
          eos,
          "max_len",
          splits.stats().maxLength());
      return 0;
    }
  }

  // ---------------------------------------------------------------- train (with resume)

  /**
   * The run's training spec as a run spec would give it (TrainingSpec defaults elsewhere). Options:
   * epochs, lr, r, alpha, dropout, schedule, warmup, max-seq-len, batch, grad-accum,
   * checkpoint-every, eval-every (0: at epoch ends only, as the demo presets).
   */
  static TrainConfig config(Map<String, String> o, Device device) {
    TrainingSpec spec =
        new TrainingSpec(
            Integer.parseInt(o.getOrDefault("epochs", "2")),
            Double.parseDouble(o.getOrDefault("lr", "1e-3")),
            o.containsKey("r") ? Integer.valueOf(o.get("r")) : null,
            o.containsKey("alpha") ? Integer.valueOf(o.get("alpha")) : null,
            o.containsKey("dropout") ? Double.valueOf(o.get("dropout")) : null,
            null,
            Integer.parseInt(o.getOrDefault("max-seq-len", "512")),
            Integer.parseInt(o.getOrDefault("batch", "4")),
            Integer.parseInt(o.getOrDefault("grad-accum", "1")),
            SEED,
            "auto",
            Integer.parseInt(o.getOrDefault("checkpoint-every", "10")),
            null,
            o.get("schedule"),
            o.containsKey("warmup") ? Double.valueOf(o.get("warmup")) : null,
            Integer.parseInt(o.getOrDefault("eval-every", "10")),
            null,
            null);
    return TrainConfig.of(spec, device.isGpu());
  }

  static List<Example> trainSet(Path work, TrainConfig c, Map<String, String> o)
      throws IOException {
    List<Example> all =
        TokenizedDataset.read(work.resolve("train.jsonl"), c.maxSeqLen()).examples();
    int limit = Integer.parseInt(o.getOrDefault("train-limit", "0"));
    return limit > 0 && limit < all.size() ? List.copyOf(all.subList(0, limit)) : all;
  }

  /** What one training run ended with (the resumed one included). */
  record Trained(TrainOutcome outcome, TrainConfig used, int fallbacks, Path adapter) {}

  /**
   * One training attempt as the train activity runs it: resume from the newest complete checkpoint
   * in {@code work/published} (the object store's stand-in), checkpoints published there, the OOM
   * fallback loop, the held-out split evaluated during training, the published adapter saved.
   */
  static Trained trainOnce(
      Path model,
      Path work,
      String name,
      TrainConfig asked,
      List<Example> data,
      Device device,
      int injectOomAbove,
      boolean fallbackAllowed,
      int heldOutLimit,
      java.util.function.Consumer<EngineSession> afterOpen)
      throws IOException, InterruptedException {
    Path published = Files.createDirectories(work.resolve("published-" + name));
    Optional<Path> resume = Checkpoint.newest(published);
    List<Example> heldOut =
        TokenizedDataset.read(work.resolve("eval.jsonl"), asked.maxSeqLen()).examples();
    if (heldOutLimit > 0 && heldOutLimit < heldOut.size()) {
      heldOut = List.copyOf(heldOut.subList(0, heldOutLimit)); // a slow CPU's shorter check
    }
    List<Example> evalSet = heldOut;
    Path attemptRoot = work.resolve("attempt-" + name + "-" + ProcessHandle.current().pid());
    BaseModelCache.deleteTree(attemptRoot);
    Path adapter = work.resolve("adapter-" + name);
    long t0 = System.nanoTime();
    int[] fallbacks = {0};
    emit(
        "attempt",
        "name",
        name,
        "resume_from",
        resume.map(p -> p.getFileName().toString()).orElse("none"),
        "batch",
        asked.batchSize(),
        "grad_accum",
        asked.gradAccumulation(),
        "examples",
        data.size());
    Trained t =
        OutOfMemory.withFallback(
            asked,
            fallbackAllowed && resume.isEmpty(),
            device.toString(),
            BASE_MODEL,
            () -> false,
            (from, to) -> {
              fallbacks[0]++;
              emit("fallback", "describe", OutOfMemory.describe(from, to));
            },
            (c, reached) -> {
              long open0 = System.nanoTime();
              try (EngineSession s =
                  EngineSession.open(
                      model,
                      c,
                      data,
                      attemptRoot.resolve("checkpoints"),
                      BASE_MODEL,
                      resume.orElse(null),
                      resume.map(Path::toString).orElse(null),
                      device)) {
                reached.opened = true;
                afterOpen.accept(s);
                long firstStep = s.trainer.step();
                emit(
                    "opened",
                    "seconds",
                    secs(open0),
                    "first_step",
                    firstStep,
                    "total_steps",
                    s.trainer.totalSteps(),
                    "batch",
                    c.batchSize(),
                    "grad_accum",
                    c.gradAccumulation(),
                    "mem_bytes",
                    MemoryProbe.bytesInUse(device));
                s.trainer.addCheckpointListener(
                    (step, dir) -> {
                      publish(dir, published.resolve("step-" + step));
                      reached.checkpointed = true;
                      emit("checkpoint", "step", step);
                    });
                s.trainer.addProgressListener(
                    m -> {
                      if (injectOomAbove >= 0
                          && m.step() == firstStep + 1
                          && c.batchSize() > injectOomAbove) {
                        throw new EngineException(
                            "DefaultCPUAllocator: can't allocate memory (injected above micro-batch"
                                + " "
                                + injectOomAbove
                                + ")");
                      }
                      emit(
                          "step",
                          "step",
                          m.step(),
                          "loss",
                          m.loss(),
                          "epoch",
                          m.epoch(),
                          "skipped",
                          m.skipped(),
                          "tokens_per_s",
                          m.tokensPerSecond(),
                          "mem_bytes",
                          m.memoryBytes());
                    });
                s.trainer.setHeldOut(evalSet);
                s.trainer.addEvalListener(
                    e ->
                        emit(
                            "eval",
                            "step",
                            e.step(),
                            "loss",
                            e.loss(),
                            "best_step",
                            e.bestStep(),
                            "best_loss",
                            e.bestLoss()));
                TrainOutcome r = s.trainer.run();
                BaseModelCache.deleteTree(adapter);
                s.trainer.savePublishedAdapter(adapter);
                // the last weights too, for comparing them with the published (best) ones
                Path last = work.resolve("adapter-" + name + "-last");
                BaseModelCache.deleteTree(last);
                s.trainer.saveAdapter(last);
                return new Trained(r, c, fallbacks[0], adapter);
              }
            });
    BaseModelCache.deleteTree(attemptRoot);
    emit("trained", "seconds", secs(t0));
    return t;
  }

  /** Copies a complete checkpoint into the store stand-in: a temp name, then one rename. */
  static void publish(Path dir, Path target) throws IOException {
    Path tmp = target.resolveSibling(".tmp-" + target.getFileName());
    BaseModelCache.deleteTree(tmp);
    Files.createDirectories(tmp);
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        if (Files.isRegularFile(f)) {
          Files.copy(f, tmp.resolve(f.getFileName()));
        } else if (Files.isDirectory(f)) {
          copyTree(f, tmp.resolve(f.getFileName()));
        }
      }
    }
    BaseModelCache.deleteTree(target);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (var walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path q = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  static int train(Map<String, String> o, Device device) throws Exception {
    Path work = Path.of(req(o, "work"));
    TrainConfig c = config(o, device);
    List<Example> data = trainSet(work, c, o);
    Trained t =
        trainOnce(
            Path.of(req(o, "model")),
            work,
            req(o, "name"),
            c,
            data,
            device,
            Integer.parseInt(o.getOrDefault("inject-oom-above", "-1")),
            true,
            evalLimit(o),
            s -> {});
    TrainOutcome r = t.outcome();
    check(
        "train-" + req(o, "name"),
        r.finished() && Files.exists(t.adapter().resolve("adapter_model.safetensors")),
        "steps",
        r.steps(),
        "total_steps",
        r.totalSteps(),
        "best_step",
        r.bestStep(),
        "best_eval_loss",
        r.bestEvalLoss(),
        "evals",
        r.evals().size(),
        "final_loss",
        r.history().last() == null ? null : r.history().last().loss(),
        "skipped_steps",
        r.history().totals().skipped(),
        "batch_used",
        t.used().batchSize(),
        "grad_accum_used",
        t.used().gradAccumulation(),
        "fallbacks",
        t.fallbacks(),
        "adapter",
        t.adapter().toString());
    return 0;
  }

  // ---------------------------------------------------------------- hang (GPU)

  /**
   * A hung CUDA call under the train activity's stall watchdog: after step {@code --hang-at-step} a
   * kernel that spins for {@code --hang-seconds} is queued on the training stream, so the next
   * device synchronization of the training thread blocks in native code. A monitor thread polls the
   * watchdog (floor {@code --stall-floor} s, factor 4, as the activity's heartbeat thread does)
   * and, once it reports a stall, interrupts the training thread (the activity's onStall). Passes
   * when the stall is reported within the window plus one poll while the call is still hung, the
   * attempt ends with the interruption once the call returns (not with a finished run), and a
   * second attempt resumes from the checkpoint published before the hang and finishes.
   */
  static int hang(Map<String, String> o, Device device) throws Exception {
    if (!device.isGpu()) {
      throw new IllegalArgumentException("hang needs a CUDA device (the spinning kernel)");
    }
    Path work = Path.of(req(o, "work"));
    TrainConfig c = config(o, device);
    List<Example> data = trainSet(work, c, o);
    String name = req(o, "name");
    int hangAt = Integer.parseInt(o.getOrDefault("hang-at-step", "12"));
    double hangSeconds = Double.parseDouble(o.getOrDefault("hang-seconds", "40"));
    long floorSeconds = Long.parseLong(o.getOrDefault("stall-floor", "5"));
    StallWatchdog watchdog =
        new StallWatchdog(
            new GpuSettings.Stall(
                java.time.Duration.ofSeconds(floorSeconds), 4, java.time.Duration.ofSeconds(120)),
            System::nanoTime);
    Thread trainingThread = Thread.currentThread();
    long[] hungAt = {0}; // nanoTime when the spinning kernel was queued
    long[] reportedAt = {0};
    Object[] reported = {null};
    Thread monitor =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                Optional<StallWatchdog.Stall> stall = watchdog.stalled();
                if (stall.isPresent()) {
                  reportedAt[0] = System.nanoTime();
                  reported[0] = stall.get();
                  trainingThread.interrupt();
                  return;
                }
                try {
                  Thread.sleep(200);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "stall-monitor");
    monitor.setDaemon(true);
    String outcome;
    long endedAt;
    try {
      trainOnce(
          Path.of(req(o, "model")),
          work,
          name,
          c,
          data,
          device,
          -1,
          false,
          evalLimit(o),
          s -> {
            s.trainer.addProgressListener(
                m -> {
                  watchdog.stepDone(m.step());
                  if (m.step() == hangAt && hungAt[0] == 0) {
                    hungAt[0] = System.nanoTime();
                    FastOps.gpuSleep(hangSeconds);
                    emit("hang", "after_step", m.step(), "seconds", hangSeconds);
                  }
                });
            watchdog.arm(s.trainer.step());
            monitor.start();
          });
      outcome = "finished"; // the hang went unnoticed
    } catch (InterruptedException e) {
      outcome = "interrupted: " + e.getMessage();
    } finally {
      endedAt = System.nanoTime();
      monitor.interrupt();
      Thread.interrupted(); // clear a late interrupt before the resume
    }
    double reportAfterHang = reportedAt[0] == 0 ? -1 : (reportedAt[0] - hungAt[0]) / 1e9;
    double attemptEndAfterHang = (endedAt - hungAt[0]) / 1e9;
    StallWatchdog.Stall stall = (StallWatchdog.Stall) reported[0];
    // the retry: resumes from the newest checkpoint published before the hang
    Optional<Path> resumeFrom = Checkpoint.newest(work.resolve("published-" + name));
    Trained retry =
        trainOnce(
            Path.of(req(o, "model")),
            work,
            name,
            c,
            data,
            device,
            -1,
            false,
            evalLimit(o),
            x -> {});
    boolean reportedInTime =
        stall != null
            && reportAfterHang >= 0
            && reportAfterHang <= stall.window().toMillis() / 1000.0 + 1.5
            && reportAfterHang < hangSeconds;
    check(
        "hang",
        reportedInTime
            && outcome.startsWith("interrupted")
            && attemptEndAfterHang >= hangSeconds * 0.5
            && retry.outcome().finished(),
        "hang_after_step",
        hangAt,
        "hang_seconds",
        hangSeconds,
        "stall_reported_after_s",
        reportAfterHang,
        "stall_window_s",
        stall == null ? null : stall.window().toMillis() / 1000.0,
        "stall_quiet_s",
        stall == null ? null : stall.quiet().toMillis() / 1000.0,
        "stall_last_step",
        stall == null ? null : stall.lastStep(),
        "attempt_ended_after_s",
        attemptEndAfterHang,
        "attempt_outcome",
        outcome,
        "retry_resumed_from",
        resumeFrom.map(p -> p.getFileName().toString()).orElse("none"),
        "retry_steps",
        retry.outcome().steps(),
        "retry_finished",
        retry.outcome().finished());
    return 0;
  }

  // ---------------------------------------------------------------- eval

  static EvalReport evaluate(
      Path model, Path work, Path adapter, int prompts, int seen, int maxNew, Device device)
      throws IOException {
    List<Integer> eos;
    try (ModelFiles files = ModelFiles.open(model)) {
      eos = files.eosTokenIds();
    }
    Path tmp = Files.createDirectories(work.resolve("eval-tmp"));
    List<EvalPrompt> chosen =
        EvalActivity.choose(
            PromptFormatter.readEvalPrompts(work.resolve("eval-prompts.jsonl")), prompts, SEED);
    SeenSample sample =
        SeenSample.fromFiles(
            work.resolve("train-prompts.jsonl"),
            work.resolve("train.jsonl"),
            tmp,
            seen,
            SEED,
            Integer.MAX_VALUE);
    GenerationConfig generation =
        GenerationConfig.greedy(maxNew).withEosTokenIds(eos).withSeed(SEED);
    return EvalActivity.evaluate(
        "gpucheck",
        BASE_MODEL,
        model,
        adapter,
        work.resolve("eval.jsonl"),
        chosen,
        sample,
        ModelSession.dtype("auto", device),
        device,
        generation,
        () -> {},
        new ProgressReporter(Phase.EVALUATING));
  }

  static int eval(Map<String, String> o, Device device) throws IOException {
    long t0 = System.nanoTime();
    Path work = Path.of(req(o, "work"));
    EvalReport report =
        evaluate(
            Path.of(req(o, "model")),
            work,
            Path.of(req(o, "adapter")),
            Integer.parseInt(o.getOrDefault("prompts", "8")),
            Integer.parseInt(o.getOrDefault("seen", "8")),
            Integer.parseInt(o.getOrDefault("max-new-tokens", "64")),
            device);
    Path out = Path.of(req(o, "out"));
    Files.write(out, report.toJson());
    Files.write(Path.of(out.toString().replaceAll("\\.json$", "") + ".html"), report.toHtml());
    var r = report.result();
    EvalReport.Row first = report.rows().isEmpty() ? null : report.rows().get(0);
    check(
        "eval",
        Double.isFinite(r.adapterEvalLoss())
            && r.adapterEvalLoss() < r.baseEvalLoss()
            && report.rows().size() == r.numPrompts(),
        "seconds",
        secs(t0),
        "base_eval_loss",
        r.baseEvalLoss(),
        "adapter_eval_loss",
        r.adapterEvalLoss(),
        "base_rouge_l",
        r.base().rougeL(),
        "adapter_rouge_l",
        r.adapter().rougeL(),
        "seen_base_rouge_l",
        r.seen() == null ? null : r.seen().base().rougeL(),
        "seen_adapter_rouge_l",
        r.seen() == null ? null : r.seen().adapter().rougeL(),
        "prompts",
        r.numPrompts(),
        "question",
        first == null ? null : first.question(),
        "base_answer",
        first == null ? null : first.baseAnswer(),
        "adapter_answer",
        first == null ? null : first.adapterAnswer(),
        "report",
        out.toString());
    return 0;
  }

  // ---------------------------------------------------------------- verify-resume

  /** Steps, checkpoints, evaluations and the final check line of one train log. */
  record TrainLog(
      TreeMap<Long, Double> losses,
      List<Long> checkpoints,
      String resumedFrom,
      JsonNode summary,
      int duplicates) {

    static TrainLog read(Path jsonl) throws IOException {
      TreeMap<Long, Double> losses = new TreeMap<>();
      List<Long> checkpoints = new ArrayList<>();
      String resumed = null;
      JsonNode summary = null;
      int dups = 0;
      for (String line : Files.readAllLines(jsonl, StandardCharsets.UTF_8)) {
        if (!line.startsWith("{")) {
          continue;
        }
        JsonNode n;
        try {
          n = JSON.readTree(line);
        } catch (IOException e) {
          continue; // a line cut by kill -9
        }
        String ev = n.path("event").asText();
        if (ev.equals("step")) {
          if (losses.put(n.get("step").asLong(), n.get("loss").asDouble()) != null) {
            dups++;
          }
        } else if (ev.equals("checkpoint")) {
          checkpoints.add(n.get("step").asLong());
        } else if (ev.equals("attempt") && resumed == null) {
          resumed = n.get("resume_from").asText();
        } else if (n.has("check")) {
          summary = n;
        }
      }
      return new TrainLog(losses, checkpoints, resumed, summary, dups);
    }
  }

  /** Largest |x - ref| / max(|ref|, 1e-6) over the steps both logs have; 0 when none. */
  static double maxRelDiff(TreeMap<Long, Double> xs, TreeMap<Long, Double> ref) {
    double worst = 0;
    for (var e : xs.entrySet()) {
      Double r = ref.get(e.getKey());
      if (r != null) {
        worst = Math.max(worst, Math.abs(e.getValue() - r) / Math.max(Math.abs(r), 1e-6));
      }
    }
    return worst;
  }

  /**
   * The killed-and-resumed run against its uninterrupted twin: killed after a checkpoint with steps
   * lost, resumed from the newest published checkpoint, every later step exactly once, the loss
   * curve and the best-checkpoint state the same as the twin's (within {@code --tol} relative: GPU
   * kernels need not be bitwise deterministic; the fresh-vs-fresh difference is reported).
   */
  static int verifyResume(Map<String, String> o) throws IOException {
    Map<String, Object> f = new LinkedHashMap<>();
    List<String> problems =
        resumeProblems(
            TrainLog.read(Path.of(req(o, "a"))),
            TrainLog.read(Path.of(req(o, "killed"))),
            TrainLog.read(Path.of(req(o, "resumed"))),
            Double.parseDouble(o.getOrDefault("tol", "0.02")),
            f);
    f.put("problems", problems);
    checkMap("kill-resume", problems.isEmpty(), f);
    return problems.isEmpty() ? 0 : 1;
  }

  /** What is wrong with the kill and resume, empty when nothing; the figures go to {@code f}. */
  static List<String> resumeProblems(
      TrainLog a, TrainLog killed, TrainLog resumed, double tol, Map<String, Object> f)
      throws IOException {
    List<String> problems = new ArrayList<>();
    long lastCkpt =
        killed.checkpoints().isEmpty()
            ? -1
            : killed.checkpoints().get(-1 + killed.checkpoints().size());
    long lastStep = killed.losses().isEmpty() ? -1 : killed.losses().lastKey();
    long from =
        resumed.resumedFrom() == null || !resumed.resumedFrom().startsWith("step-")
            ? -1
            : Long.parseLong(resumed.resumedFrom().substring(5));
    f.put("killed_after_step", lastStep);
    f.put("killed_last_checkpoint", lastCkpt);
    f.put("steps_lost_to_kill", lastStep - from);
    f.put("resumed_from", from);
    if (killed.summary() != null) {
      problems.add("the killed run finished (it was not killed mid-run)");
    }
    if (lastCkpt < 1) {
      problems.add("killed before its first checkpoint");
    }
    if (from < lastCkpt || from > lastStep) {
      problems.add("resumed from step " + from + ", not the newest checkpoint " + lastCkpt);
    }
    if (a.summary() == null || resumed.summary() == null) {
      problems.add("a run did not finish");
    } else {
      long total = a.summary().get("total_steps").asLong();
      List<Long> expected = new ArrayList<>();
      for (long s = from + 1; s <= total; s++) {
        expected.add(s);
      }
      List<Long> got = new ArrayList<>(resumed.losses().keySet());
      f.put("resumed_steps", got.isEmpty() ? "none" : got.get(0) + ".." + got.get(got.size() - 1));
      if (!got.equals(expected) || resumed.duplicates() > 0) {
        problems.add("resumed steps " + got + " are not " + from + "+1.." + total);
      }
      if (resumed.summary().get("steps").asLong() != total) {
        problems.add("resumed run ended at step " + resumed.summary().get("steps"));
      }
      f.put("total_steps", total);
      f.put("best_step", resumed.summary().get("best_step").asLong());
      f.put("best_step_uninterrupted", a.summary().get("best_step").asLong());
      f.put("best_eval_loss", resumed.summary().get("best_eval_loss").asDouble());
      f.put("best_eval_loss_uninterrupted", a.summary().get("best_eval_loss").asDouble());
      f.put("evals", resumed.summary().get("evals").asInt());
      f.put("evals_uninterrupted", a.summary().get("evals").asInt());
      if (resumed.summary().get("best_step").asLong() != a.summary().get("best_step").asLong()
          || resumed.summary().get("evals").asInt() != a.summary().get("evals").asInt()) {
        problems.add("best-checkpoint state differs from the uninterrupted run");
      }
      double bestDiff =
          Math.abs(
                  resumed.summary().get("best_eval_loss").asDouble()
                      - a.summary().get("best_eval_loss").asDouble())
              / Math.abs(a.summary().get("best_eval_loss").asDouble());
      if (bestDiff > tol) {
        problems.add("best eval loss differs by " + bestDiff);
      }
      Path adapterA = Path.of(a.summary().get("adapter").asText(), "adapter_model.safetensors");
      Path adapterB =
          Path.of(resumed.summary().get("adapter").asText(), "adapter_model.safetensors");
      f.put(
          "adapter_byte_identical",
          Files.exists(adapterA)
              && Files.exists(adapterB)
              && java.util.Arrays.equals(
                  Files.readAllBytes(adapterA), Files.readAllBytes(adapterB)));
    }
    double killedVsA = maxRelDiff(killed.losses(), a.losses());
    double resumedVsA = maxRelDiff(resumed.losses(), a.losses());
    f.put("loss_rel_diff_fresh_vs_fresh", killedVsA);
    f.put("loss_rel_diff_resumed_vs_uninterrupted", resumedVsA);
    f.put("tolerance", tol);
    if (resumedVsA > tol) {
      problems.add("the resumed loss curve departs from the uninterrupted one by " + resumedVsA);
    }
    return problems;
  }

  // ---------------------------------------------------------------- oom

  /**
   * A real out-of-memory on the GPU: most of the free device memory is taken by one ballast
   * allocation (this process, torch's allocator), leaving {@code --headroom-mib}; training at
   * {@code --batch} cannot fit, the fallback halves it until a step fits, and the run finishes with
   * the same effective batch. Then the ballast grows until micro-batch 1 cannot fit either: the
   * non-retryable OutOfMemory failure. On a CPU the allocator error is injected (marked).
   */
  static int oom(Map<String, String> o, Device device) throws Exception {
    Path model = Path.of(req(o, "model"));
    Path work = Path.of(req(o, "work"));
    Map<String, String> cfg = new HashMap<>(o);
    cfg.putIfAbsent("batch", "64");
    cfg.putIfAbsent("epochs", "1");
    cfg.putIfAbsent("checkpoint-every", "1000"); // only the final one: the fallback is before it
    cfg.putIfAbsent("eval-every", "0");
    TrainConfig asked = config(cfg, device);
    List<Example> data = trainSet(work, asked, cfg);
    boolean real = device.isGpu();
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("real_cuda_oom", real);
    List<String> problems = new ArrayList<>();
    // micro-batch 1 is checked in its own process: torch's allocator would lend the first part's
    // cached blocks to it, memory that the ballast cannot see
    boolean one = o.getOrDefault("part", "fallback").equals("one");
    f.put("part", one ? "micro-batch 1 cannot fit" : "fallback");
    try (NDManager ballast = NDManager.newBaseManager(device)) {
      // the ballast is taken once the first attempt has loaded the model, so the headroom is what
      // the training steps have (later attempts load into the memory the first one freed)
      long headroom = Long.parseLong(o.getOrDefault("headroom-mib", one ? "8" : "400"));
      boolean[] filled = {false};
      java.util.function.Consumer<EngineSession> takeMemory =
          s -> {
            if (real && !filled[0]) {
              filled[0] = true;
              f.put("loaded_model_used_mib", MemoryProbe.bytesInUse(device) >> 20);
              f.put("headroom_mib", headroom);
              f.put("ballast_mib", fill(ballast, device, headroom));
              f.put("free_mib_for_steps", freeMib(device));
            }
          };
      if (!one) {
        long t0 = System.nanoTime();
        Trained t =
            trainOnce(
                model,
                work,
                "oom-fallback",
                asked,
                data,
                device,
                real ? -1 : asked.batchSize() / 2,
                true,
                evalLimit(o),
                takeMemory);
        f.put("seconds", secs(t0));
        f.put("asked", asked.batchSize() + "x" + asked.gradAccumulation());
        f.put("used", t.used().batchSize() + "x" + t.used().gradAccumulation());
        f.put("fallbacks", t.fallbacks());
        f.put("steps", t.outcome().steps());
        if (t.fallbacks() < 1) {
          problems.add(
              "no out-of-memory at micro-batch " + asked.batchSize() + ": ballast too small");
        }
        if (t.used().batchSize() * t.used().gradAccumulation()
            != asked.batchSize() * asked.gradAccumulation()) {
          problems.add("effective batch changed");
        }
        if (!t.outcome().finished()) {
          problems.add("the fallback run did not finish");
        }
      } else {
        // no fallback left: one clear non-retryable failure
        TrainConfig.Builder b1 = asked.toBuilder();
        b1.batchSize = 1;
        b1.gradAccumulation = 1;
        long t0 = System.nanoTime();
        try {
          trainOnce(
              model,
              work,
              "oom-one",
              b1.build(),
              data,
              device,
              real ? -1 : 0,
              true,
              evalLimit(o),
              takeMemory);
          problems.add("micro-batch 1 fitted: headroom too large");
        } catch (ApplicationFailure e) {
          f.put("seconds", secs(t0));
          f.put("failure_type", e.getType());
          f.put("non_retryable", e.isNonRetryable());
          f.put("message", e.getOriginalMessage());
          if (!e.getType().equals(io.loraflow.workflows.FailureTypes.OUT_OF_MEMORY)
              || !e.isNonRetryable()
              || !e.getOriginalMessage().contains("lower training.maxSeqLen")) {
            problems.add("not the non-retryable OutOfMemory that says what to lower");
          }
        }
      }
    }
    f.put("problems", problems);
    checkMap(one ? "oom-batch-1" : "oom-fallback", problems.isEmpty(), f);
    return problems.isEmpty() ? 0 : 1;
  }

  /**
   * Allocates int8 blocks in {@code ballast} until {@code headroomMib} of the device is free: 1 GiB
   * blocks, then 64 MiB and 2 MiB ones, which torch's allocator serves from its cached free blocks
   * first (memory cudaMemGetInfo counts as used), so the headroom is all a step can get.
   */
  static long fill(NDManager ballast, Device device, long headroomMib) {
    long taken = 0;
    while (true) {
      long want = (freeMib(device) - headroomMib) << 20;
      long n = want > (1L << 30) ? 1L << 30 : want > (64L << 20) ? 64L << 20 : 2L << 20;
      if (want < n) {
        return taken >> 20;
      }
      ballast.zeros(new Shape(n), DataType.INT8);
      taken += n;
    }
  }

  static long freeMib(Device device) {
    MemoryUsage u = CudaUtils.getGpuMemory(device);
    return (u.getMax() - u.getCommitted()) >> 20;
  }

  // ---------------------------------------------------------------- soak

  /**
   * {@code --runs} short runs in a row in this JVM, as one GPU worker runs them: each opens the
   * model, trains a few steps, saves the adapter, closes everything, and evaluates the adapter (two
   * prompts). Memory after each run: device memory in use (cudaMemGetInfo), torch's allocated bytes
   * (with the native library), JVM heap after GC, resident set. The baseline is after the first run
   * (allocator caches, JIT and DJL's libraries are warm by then).
   */
  static int soak(Map<String, String> o, Device device) throws Exception {
    Path model = Path.of(req(o, "model"));
    Path work = Path.of(req(o, "work"));
    int runs = Integer.parseInt(o.getOrDefault("runs", "20"));
    Map<String, String> cfg = new HashMap<>(o);
    cfg.putIfAbsent("train-limit", "12");
    cfg.putIfAbsent("epochs", "1");
    cfg.putIfAbsent("checkpoint-every", "2");
    cfg.putIfAbsent("eval-every", "0");
    TrainConfig c = config(cfg, device);
    List<Example> data = trainSet(work, c, cfg);
    List<long[]> mem = new ArrayList<>();
    mem.add(memory(device));
    emitMemory(0, mem.get(0));
    long t0 = System.nanoTime();
    // a device call has a fixed time: stop starting runs after --max-seconds (the count says so)
    double maxSeconds = Double.parseDouble(o.getOrDefault("max-seconds", "1e9"));
    int done = 0;
    for (int i = 1; i <= runs && (i <= 2 || secs(t0) < maxSeconds); i++) {
      done = i;
      String name = "soak-" + i;
      Trained t = trainOnce(model, work, name, c, data, device, -1, true, evalLimit(o), s -> {});
      evaluate(
          model,
          work,
          t.adapter(),
          Integer.parseInt(o.getOrDefault("soak-prompts", "2")),
          0,
          Integer.parseInt(o.getOrDefault("soak-tokens", "16")),
          device);
      BaseModelCache.deleteTree(t.adapter());
      BaseModelCache.deleteTree(work.resolve("published-" + name));
      mem.add(memory(device));
      emitMemory(i, mem.get(i));
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("runs", done);
    f.put("runs_asked", runs);
    f.put("seconds", secs(t0));
    f.put("seconds_per_run", done == 0 ? null : Math.round(secs(t0) / done * 10) / 10.0);
    List<String> problems = memoryProblems(mem, f);
    f.put("problems", problems);
    checkMap("soak", problems.isEmpty(), f);
    return problems.isEmpty() ? 0 : 1;
  }

  /** Probe names, in {@link #memory} order, and how far each may end above its baseline. */
  static final String[] MEMORY_NAMES = {"device_used", "torch_allocated", "heap_after_gc", "rss"};

  // device memory and torch's allocated bytes must come back (one leaked LoRA module set of this
  // model is ~7 MiB, its NF4 base ~70 MiB); heap and RSS move with GC and malloc arenas
  static final long[] MEMORY_TOLERANCE_MIB = {64, 8, 48, 160};

  /**
   * Growth of each probe from after the first run ({@code mem.get(1)}, the warm baseline) to after
   * the last, against {@link #MEMORY_TOLERANCE_MIB}; {@code mem.get(0)} is before any run. Probes
   * that read -1 are "unavailable", not failures. Figures go to {@code f}.
   */
  static List<String> memoryProblems(List<long[]> mem, Map<String, Object> f) {
    int runs = mem.size() - 1;
    long[] base = mem.get(Math.min(1, runs));
    long[] end = mem.get(runs);
    List<String> problems = new ArrayList<>();
    for (int k = 0; k < MEMORY_NAMES.length; k++) {
      String name = MEMORY_NAMES[k];
      if (base[k] < 0 || end[k] < 0) {
        f.put(name, "unavailable");
        continue;
      }
      long delta = (end[k] - base[k]) >> 20;
      f.put(name + "_start_mib", mem.get(0)[k] >> 20);
      f.put(name + "_after_run1_mib", base[k] >> 20);
      f.put(name + "_after_last_run_mib", end[k] >> 20);
      f.put(name + "_delta_mib", delta);
      f.put(name + "_tolerance_mib", MEMORY_TOLERANCE_MIB[k]);
      f.put(name + "_per_run_kib", runs > 1 ? ((end[k] - base[k]) >> 10) / (runs - 1) : 0);
      if (delta > MEMORY_TOLERANCE_MIB[k]) {
        problems.add(name + " grew " + delta + " MiB over " + (runs - 1) + " runs");
      }
    }
    if (runs < 2) {
      problems.add("fewer than 2 runs: no baseline after a warm-up run");
    }
    return problems;
  }

  /** {device used, torch allocated, heap after GC, RSS} in bytes, -1 where unknown. */
  static long[] memory(Device device) throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
    }
    Runtime rt = Runtime.getRuntime();
    long heap = rt.totalMemory() - rt.freeMemory();
    long device0 = device.isGpu() ? MemoryProbe.bytesInUse(device) : -1;
    return new long[] {device0, torchAllocated(device), heap, rss()};
  }

  /**
   * torch's allocated bytes on {@code device} (the native library's memoryStats), -1 without the
   * library or when it cannot say: a probe never ends the soak (before this process's first CUDA
   * allocation an older library threw "Invalid device argument").
   */
  static long torchAllocated(Device device) {
    if (!device.isGpu()) {
      return -1;
    }
    try {
      long[] stats = FastOps.memoryStats(Math.max(0, device.getDeviceId()), false);
      return stats == null ? -1 : stats[0];
    } catch (RuntimeException e) {
      emit("probe_failed", "probe", "torch_allocated", "error", e.toString());
      return -1;
    }
  }

  static long rss() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (l.startsWith("VmRSS:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", "")) << 10;
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return -1;
  }

  static void emitMemory(int run, long[] m) {
    emit(
        "memory",
        "after_run",
        run,
        "device_used_mib",
        m[0] >> 20,
        "torch_allocated_mib",
        m[1] < 0 ? null : m[1] >> 20,
        "heap_mib",
        m[2] >> 20,
        "rss_mib",
        m[3] >> 20);
  }

  // ---------------------------------------------------------------- output

  static Map<String, String> options(String[] argv) {
    Map<String, String> o = new HashMap<>();
    for (int i = 1; i < argv.length; i++) {
      if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
        throw new IllegalArgumentException("expected --option value at " + argv[i]);
      }
      o.put(argv[i].substring(2), argv[++i]);
    }
    return o;
  }

  /** Held-out examples evaluated during training, 0 for all (a slow CPU's check uses few). */
  static int evalLimit(Map<String, String> o) {
    return Integer.parseInt(o.getOrDefault("eval-limit", "0"));
  }

  static String req(Map<String, String> o, String key) {
    String v = o.get(key);
    if (v == null) {
      throw new IllegalArgumentException("missing --" + key);
    }
    return v;
  }

  static double secs(long t0) {
    return Math.round((System.nanoTime() - t0) / 1e7) / 100.0;
  }

  static void emit(String event, Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("event", event);
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    print(m);
  }

  static void check(String name, boolean pass, Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    checkMap(name, pass, m);
  }

  static void checkMap(String name, boolean pass, Map<String, Object> fields) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("check", name);
    m.put("pass", pass);
    m.putAll(fields);
    print(m);
  }

  private static synchronized void print(Map<String, Object> m) {
    try {
      System.out.println(JSON.writeValueAsString(m));
    } catch (IOException e) {
      System.out.println("{\"event\":\"unprintable\"}");
    }
    System.out.flush();
  }
}
