package io.loraflow.gpu;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.loraflow.activities.prompts.EvalPrompt;
import io.loraflow.activities.prompts.PromptFormatter;
import io.loraflow.activities.scoring.AnswerScorer;
import io.loraflow.activities.scoring.EvalLoss;
import io.loraflow.engine.generate.Generation;
import io.loraflow.engine.generate.GenerationConfig;
import io.loraflow.engine.generate.Generator;
import io.loraflow.engine.generate.TokenCodec;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.session.ModelSession;
import io.loraflow.engine.tokenizer.TextTokenizer;
import io.loraflow.engine.train.Example;
import io.loraflow.engine.train.LossEvaluator;
import io.loraflow.engine.train.TokenizedDataset;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.EvalRequest;
import io.loraflow.workflows.EvalResult;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.Scores;
import io.loraflow.workflows.SeenEval;
import io.loraflow.workflows.StorageKeys;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The evaluate activity: base vs adapter on the held-out split, and on a seeded sample of the
 * training questions ({@link SeenSample}: the questions a support bot is asked every day). Eval
 * loss and perplexity over the whole eval split (answer tokens only), greedy answers to the chosen
 * eval prompts with the same settings for both, scored with the pipeline's {@link AnswerScorer}.
 * The base model is the same model with every LoRA B at zero (exactly the base function), then the
 * adapter is loaded into it. Idempotent: an existing report.json is the result.
 */
final class EvalActivity {
  private static final Logger log = LoggerFactory.getLogger(EvalActivity.class);
  private static final int LOSS_BATCH = 4;
  private static final int GENERATION_BATCH = 8;

  private final GpuSettings settings;
  private final ObjectStore store;
  private final Tracking tracking;
  private final BaseModelCache models;
  private final PrefixPublisher publisher;

  EvalActivity(GpuSettings settings, ObjectStore store, Tracking tracking, BaseModelCache models) {
    this.settings = settings;
    this.store = store;
    this.tracking = tracking;
    this.models = models;
    this.publisher = new PrefixPublisher(store);
  }

  void requestStopAll() {
    // evaluation holds no state worth saving: a stopped attempt starts over
  }

  EvalResult run(EvalRequest req, ProgressReporter progress) {
    String runId = req.runId();
    String reportKey = StorageKeys.evalReportJson(runId);
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    if (store.exists(reportKey)) {
      try {
        EvalResult published = EvalReport.fromJson(store.getBytes(reportKey)).result();
        // the attempt that published it may have been killed before it cleaned its scratch
        AttemptDirs.clearOlder(settings.workDir(), runId, "eval", ctx.getInfo().getAttempt());
        return published;
      } catch (IOException e) {
        log.warn("{}: unreadable {} ({}); evaluating again", runId, reportKey, e.toString());
      }
    }
    Path work = AttemptDirs.fresh(settings.workDir(), runId, "eval", ctx.getInfo().getAttempt());
    try (Heartbeats hb =
        new Heartbeats(ctx, settings.heartbeatEvery(), progress::latest, () -> {})) {
      Path modelPath = models.local(req.model());
      Path adapterDir = work.resolve("adapter");
      publisher.download(TrainActivity.strip(req.adapterKey()), adapterDir);
      Path evalJsonl = work.resolve("eval.jsonl");
      store.download(req.prompts().evalKey(), evalJsonl);
      Path promptsJsonl = work.resolve("eval-prompts.jsonl");
      store.download(req.prompts().evalPromptsKey(), promptsJsonl);
      List<EvalPrompt> prompts =
          choose(
              PromptFormatter.readEvalPrompts(promptsJsonl),
              req.evaluation().numPrompts(),
              req.evaluation().seed());
      Device device = ModelSession.device(settings.device());
      DataType dtype = ModelSession.dtype(req.precision(), device);
      GenerationConfig generation =
          GenerationConfig.greedy(req.evaluation().maxNewTokens())
              .withEosTokenIds(req.model().eosTokenIds())
              .withSeed(req.evaluation().seed());
      SeenSample seen =
          SeenSample.load(
              store,
              req.prompts(),
              work,
              req.evaluation().numSeenPrompts(),
              req.evaluation().seed(),
              Integer.MAX_VALUE);
      EvalReport report =
          evaluate(
              runId,
              req.model().baseModel(),
              modelPath,
              adapterDir,
              evalJsonl,
              prompts,
              seen,
              dtype,
              device,
              generation,
              hb::throwIfCancelled,
              progress);
      publish(req, report);
      EvalResult result = report.result();
      log.info(
          "{}: eval loss {} -> {}, ROUGE-L {} -> {}",
          runId,
          result.baseEvalLoss(),
          result.adapterEvalLoss(),
          result.base().rougeL(),
          result.adapter().rougeL());
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException("evaluation of " + runId + " failed: " + e.getMessage(), e);
    } finally {
      BaseModelCache.deleteTree(work);
    }
  }

  /**
   * The evaluation itself, on local files and without Temporal (the GPU checks run it directly):
   * base (every LoRA B at zero) then adapter, each with the eval-split loss and greedy answers to
   * {@code prompts} and to the {@code seen} training questions, scored against their references.
   *
   * @param evalJsonl the tokenized held-out split
   * @param checkCancelled throws when the caller's attempt is cancelled (between batches)
   */
  static EvalReport evaluate(
      String runId,
      String baseModel,
      Path modelPath,
      Path adapterDir,
      Path evalJsonl,
      List<EvalPrompt> prompts,
      SeenSample seen,
      DataType dtype,
      Device device,
      GenerationConfig generation,
      Runnable checkCancelled,
      ProgressReporter progress)
      throws IOException {
    AtomicLong done = new AtomicLong();
    long total = 2L * (prompts.size() + seen.prompts().size());
    try (ModelFiles files = ModelFiles.open(modelPath);
        TextTokenizer tok = files.tokenizer();
        ModelSession session = ModelSession.withAdapter(files, adapterDir, dtype, device)) {
      List<Example> evalSet =
          TokenizedDataset.read(evalJsonl, files.config().maxPositions()).examples();
      CausalLM model = session.model();
      session.useBase(); // B = 0: exactly the base model
      TokenCodec codec = TokenCodec.of(s -> tok.encode(s, false), ids -> tok.decode(ids, true));
      Generator generator = new Generator(model, device, codec);
      // prompts are encoded as training encoded them (PromptFormatter.encodePrompt: special
      // tokens on, so a BOS-adding tokenizer gets its BOS); generated text is decoded without
      // them
      TokenCodec promptCodec =
          TokenCodec.of(t -> tok.encode(t, true), ids -> tok.decode(ids, true));

      // the same pass for both models: only who is loaded differs
      java.util.function.Function<String, Pass> pass =
          who ->
              Pass.run(
                  who,
                  model,
                  evalSet,
                  seen,
                  prompts,
                  device,
                  generator,
                  promptCodec,
                  generation,
                  checkCancelled,
                  done,
                  total,
                  progress);
      Pass base = pass.apply("base model");
      session.useAdapter();
      Pass adapter = pass.apply("adapter");

      List<EvalReport.Row> rows = new ArrayList<>();
      List<AnswerScorer.Scored> baseScored = new ArrayList<>();
      List<AnswerScorer.Scored> adapterScored = new ArrayList<>();
      scoreRows(
          prompts,
          base.heldOutAnswers(),
          adapter.heldOutAnswers(),
          rows,
          baseScored,
          adapterScored);
      List<EvalReport.Row> seenRows = new ArrayList<>();
      List<AnswerScorer.Scored> baseSeenScored = new ArrayList<>();
      List<AnswerScorer.Scored> adapterSeenScored = new ArrayList<>();
      scoreRows(
          seen.prompts(),
          base.seenAnswers(),
          adapter.seenAnswers(),
          seenRows,
          baseSeenScored,
          adapterSeenScored);
      SeenEval seenEval =
          seen.isEmpty()
              ? null
              : new SeenEval(
                  base.seenLoss().mean(),
                  adapter.seenLoss().mean(),
                  AnswerScorer.mean(baseSeenScored),
                  AnswerScorer.mean(adapterSeenScored),
                  seen.prompts().size());
      EvalResult result =
          new EvalResult(
              base.heldOutLoss().mean(),
              adapter.heldOutLoss().mean(),
              base.heldOutLoss().perplexity(),
              adapter.heldOutLoss().perplexity(),
              AnswerScorer.mean(baseScored),
              AnswerScorer.mean(adapterScored),
              prompts.size(),
              StorageKeys.evalReportJson(runId),
              StorageKeys.evalReportHtml(runId),
              seenEval);
      return new EvalReport(runId, baseModel, result, rows, seenRows);
    }
  }

  /**
   * One model's pass over both sets, in this order: held-out loss, held-out answers, seen loss,
   * seen answers (the base model's pass, then the adapter's, with the same prompts and generation).
   */
  private record Pass(
      EvalLoss heldOutLoss,
      List<String> heldOutAnswers,
      EvalLoss seenLoss,
      List<String> seenAnswers) {

    static Pass run(
        String who,
        CausalLM model,
        List<Example> evalSet,
        SeenSample seen,
        List<EvalPrompt> prompts,
        Device device,
        Generator generator,
        TokenCodec promptCodec,
        GenerationConfig generation,
        Runnable checkCancelled,
        AtomicLong done,
        long total,
        ProgressReporter progress) {
      progress.report(Progress.of(Phase.EVALUATING, who + ": eval loss"));
      EvalLoss heldOutLoss = loss(model, evalSet, device, checkCancelled);
      List<String> heldOutAnswers =
          answers(
              generator, promptCodec, prompts, generation, checkCancelled, done, total, progress);
      EvalLoss seenLoss = loss(model, seen.examples(), device, checkCancelled);
      List<String> seenAnswers =
          answers(
              generator,
              promptCodec,
              seen.prompts(),
              generation,
              checkCancelled,
              done,
              total,
              progress);
      return new Pass(heldOutLoss, heldOutAnswers, seenLoss, seenAnswers);
    }
  }

  /** HTML, then JSON (the completion marker of this activity), then MLflow artifacts. */
  private void publish(EvalRequest req, EvalReport report) {
    byte[] html = report.toHtml();
    byte[] json = report.toJson();
    store.put(StorageKeys.evalReportHtml(req.runId()), html);
    store.put(StorageKeys.evalReportJson(req.runId()), json);
    if (req.mlflowRunId() != null) {
      var run = tracking.tracked(req.mlflowRunId());
      tracking.logArtifact(run, "eval/report.html", html);
      tracking.logArtifact(run, "eval/report.json", json);
    }
  }

  private static EvalLoss loss(
      CausalLM model, List<Example> set, Device device, Runnable checkCancelled) {
    EvalLoss loss = new EvalLoss();
    for (int i = 0; i < set.size(); i += LOSS_BATCH) {
      checkCancelled.run();
      double[] r =
          LossEvaluator.batchLoss(
              model, set.subList(i, Math.min(set.size(), i + LOSS_BATCH)), device);
      loss.add(r[0], (long) r[1]);
    }
    return loss;
  }

  private static List<String> answers(
      Generator generator,
      TokenCodec codec,
      List<EvalPrompt> prompts,
      GenerationConfig config,
      Runnable checkCancelled,
      AtomicLong done,
      long total,
      ProgressReporter progress) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i += GENERATION_BATCH) {
      checkCancelled.run();
      List<long[]> ids = new ArrayList<>();
      for (EvalPrompt p : prompts.subList(i, Math.min(prompts.size(), i + GENERATION_BATCH))) {
        ids.add(codec.encode(p.prompt()));
      }
      for (Generation g : generator.generate(ids, config, (row, id, text) -> {}).sequences()) {
        out.add(codec.decode(g.tokens()).strip());
      }
      done.addAndGet(ids.size());
      progress.report(
          new Progress(Phase.EVALUATING, done.get(), total, null, null, null, "answering"));
    }
    return out;
  }

  /** Scores both answers to every prompt against its reference and adds the report rows. */
  private static void scoreRows(
      List<EvalPrompt> prompts,
      List<String> baseAnswers,
      List<String> adapterAnswers,
      List<EvalReport.Row> rows,
      List<AnswerScorer.Scored> baseScored,
      List<AnswerScorer.Scored> adapterScored) {
    for (int i = 0; i < prompts.size(); i++) {
      EvalPrompt p = prompts.get(i);
      AnswerScorer.Scored b = AnswerScorer.score(p.reference(), baseAnswers.get(i));
      AnswerScorer.Scored a = AnswerScorer.score(p.reference(), adapterAnswers.get(i));
      baseScored.add(b);
      adapterScored.add(a);
      rows.add(
          new EvalReport.Row(
              p.question(),
              p.reference(),
              baseAnswers.get(i),
              adapterAnswers.get(i),
              scores(b),
              scores(a)));
    }
  }

  private static Scores scores(AnswerScorer.Scored s) {
    return new Scores(s.rougeL(), s.tokenF1(), s.exactMatch());
  }

  /** {@code n} prompts picked by {@code seed}, in file order (all when n >= size). */
  static List<EvalPrompt> choose(List<EvalPrompt> all, int n, long seed) {
    if (n >= all.size()) {
      return all;
    }
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      idx.add(i);
    }
    Collections.shuffle(idx, new Random(seed));
    List<Integer> picked = new ArrayList<>(idx.subList(0, n));
    Collections.sort(picked);
    return picked.stream().map(all::get).toList();
  }
}
