package io.loraflow.gpu;

import ai.djl.Device;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.engine.session.ModelSession;
import io.loraflow.engine.train.Example;
import io.loraflow.engine.train.StepHistory;
import io.loraflow.engine.train.StepMetrics;
import io.loraflow.engine.train.TokenizedDataset;
import io.loraflow.engine.train.TrainConfig;
import io.loraflow.infra.Manifest;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.infra.mlflow.MetricPoint;
import io.loraflow.infra.mlflow.TrackedRun;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.StorageKeys;
import io.loraflow.workflows.TrainHeartbeat;
import io.loraflow.workflows.TrainRequest;
import io.loraflow.workflows.TrainResult;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityWorkerShutdownException;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The train activity: resume point from the heartbeat or the newest complete checkpoint in MinIO,
 * the engine's {@link io.loraflow.engine.train.Trainer} on local copies, every checkpoint published
 * to {@code runs/<id>/checkpoints/step-<n>/} and heartbeated, metrics to MLflow in batches, the
 * adapter to {@code runs/<id>/adapter/} and MLflow, the loss curve PNG.
 */
final class TrainActivity {
  private static final Logger log = LoggerFactory.getLogger(TrainActivity.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Failure type of an attempt stopped by SIGTERM after a checkpoint: retried elsewhere. */
  static final String WORKER_STOPPING = "WorkerStopping";

  private final GpuSettings settings;
  private final ObjectStore store;
  private final Tracking tracking;
  private final BaseModelCache models;
  private final CheckpointStore checkpoints;
  private final PrefixPublisher publisher;
  private final Set<EngineSession> running = ConcurrentHashMap.newKeySet();
  private volatile boolean stopping;

  TrainActivity(GpuSettings settings, ObjectStore store, Tracking tracking, BaseModelCache models) {
    this.settings = settings;
    this.store = store;
    this.tracking = tracking;
    this.models = models;
    this.checkpoints = new CheckpointStore(store, settings.faults().checkpointPauseMillis());
    this.publisher = new PrefixPublisher(store);
  }

  void requestStopAll() {
    stopping = true;
    running.forEach(s -> s.trainer.requestStop());
  }

  TrainResult run(TrainRequest req) {
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    String runId = req.runId();
    String adapterPrefix = strip(StorageKeys.adapterPrefix(runId));

    // an earlier attempt finished and published the adapter: its result stands
    Optional<Manifest> done = publisher.readComplete(adapterPrefix);
    if (done.isPresent()) {
      // the attempt that published it may have been killed before it cleaned its scratch
      AttemptDirs.clearOlder(settings.workDir(), runId, "attempt", ctx.getInfo().getAttempt());
      return resultOf(done.get(), req);
    }

    if (stopping) {
      throw ApplicationFailure.newFailure(
          "worker stopping: not starting " + runId + " here", WORKER_STOPPING);
    }
    Device device = ModelSession.device(settings.device());
    TrainConfig config;
    try {
      config = TrainConfig.of(req.training(), !device.equals(Device.cpu()));
    } catch (IllegalArgumentException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          e.getMessage(), FailureTypes.INVALID_TRAINING_CONFIG);
    }
    int attempt = ctx.getInfo().getAttempt();
    Path work = AttemptDirs.fresh(settings.workDir(), runId, "attempt", attempt);

    Optional<CheckpointStore.Ref> resume =
        ResumePoint.choose(runId, ctx.getHeartbeatDetails(TrainHeartbeat.class), checkpoints);
    long startedAt = System.nanoTime();
    AtomicReference<TrainHeartbeat> beat =
        new AtomicReference<>(
            new TrainHeartbeat(
                resume.map(CheckpointStore.Ref::step).orElse(0L),
                resume.map(CheckpointStore.Ref::key).orElse(null),
                null,
                Progress.of(
                    Phase.TRAINING,
                    resume
                        .map(r -> "resuming from step " + r.step())
                        .orElse("loading the model"))));
    AtomicReference<EngineSession> open = new AtomicReference<>();
    StallWatchdog watchdog = new StallWatchdog(settings.stall(), System::nanoTime);
    Thread trainingThread = Thread.currentThread();
    // Heartbeats start before the downloads and the model load: loading and quantizing a base model
    // can take longer than the heartbeat timeout on a busy machine, and a silent attempt is
    // retried. The stall watchdog joins once training runs.
    Heartbeats hb =
        new Heartbeats(
            ctx,
            settings.heartbeatEvery(),
            beat::get,
            () -> {
              EngineSession s = open.get();
              if (s != null) {
                s.trainer.requestStop();
              }
            });
    try {
      Path modelPath = models.local(req.model());
      Path trainJsonl = work.resolve("train.jsonl");
      store.download(req.prompts().trainKey(), trainJsonl);
      List<Example> data = TokenizedDataset.read(trainJsonl, config.maxSeqLen()).examples();
      List<Example> heldOut =
          TrainingEvaluation.heldOut(store, req.prompts(), work, config.maxSeqLen());
      Path resumeDir = null;
      if (resume.isPresent()) {
        resumeDir = work.resolve("resume").resolve("step-" + resume.get().step());
        checkpoints.download(resume.get(), resumeDir);
        log.info("{}: resuming from {}", runId, resume.get().key());
      }
      MetricsBuffer metrics =
          new MetricsBuffer(tracking, req.mlflowRunId(), settings.metricsFlush());
      TrainConfig asked = config;
      Path resumeFrom = resumeDir;
      return OutOfMemory.withFallback(
          asked,
          settings.oomFallback() && resumeDir == null,
          device.toString(),
          req.model().baseModel(),
          () -> hb.stall().isPresent(),
          (from, to) -> {
            log.warn(
                "{}: out of memory at micro-batch {}, max sequence {}; retrying with {}",
                runId,
                from.batchSize(),
                from.maxSeqLen(),
                OutOfMemory.describe(from, to));
            recordFallback(req, from, to);
            open.set(null);
          },
          (attemptConfig, reached) -> {
            try (EngineSession session =
                EngineSession.open(
                    modelPath,
                    attemptConfig,
                    data,
                    work.resolve("checkpoints"),
                    req.model().baseModel(),
                    resumeFrom,
                    resume.map(CheckpointStore.Ref::key).orElse(null),
                    device)) {
              open.set(session);
              reached.opened = true;
              running.add(session);
              if (stopping || hb.interruption().isPresent()) {
                session.trainer.requestStop();
              }
              session.trainer.addCheckpointListener(
                  (step, dir) ->
                      watchdog.paused(
                          () -> {
                            // metrics first: a retry resumes after this checkpoint and never
                            // logs its steps again, so a kill between publish and the next
                            // timed flush lost them from MLflow (the chaos soak found step 6
                            // missing)
                            if (!metrics.flush()) {
                              log.warn(
                                  "{}: metrics up to step {} not in MLflow yet; a kill before"
                                      + " the next flush loses them",
                                  runId,
                                  step);
                            }
                            CheckpointStore.Ref ref = checkpoints.publish(runId, step, dir);
                            reached.checkpointed = true;
                            beat.updateAndGet(
                                prev ->
                                    new TrainHeartbeat(
                                        step,
                                        ref.key(),
                                        prev.loss(),
                                        prev.progress(),
                                        prev.evalLoss()));
                            hb.beat();
                          }));
              long firstStep = session.trainer.step();
              long loopStart = System.nanoTime();
              TrainConfig stepConfig = attemptConfig;
              session.trainer.addProgressListener(
                  m -> {
                    injectFaults(m, firstStep, stepConfig, attempt);
                    watchdog.stepDone(m.step());
                    beat.updateAndGet(
                        prev ->
                            new TrainHeartbeat(
                                m.step(),
                                prev.checkpointKey(),
                                m.loss(),
                                progressOf(m, firstStep, loopStart, prev.evalLoss()),
                                prev.evalLoss()));
                    for (MetricPoint p : points(m)) {
                      metrics.add(p);
                    }
                  });
              session.trainer.setHeldOut(heldOut);
              session.trainer.addEvalListener(
                  e -> {
                    beat.updateAndGet(
                        prev ->
                            new TrainHeartbeat(
                                prev.step(),
                                prev.checkpointKey(),
                                prev.loss(),
                                prev.progress(),
                                e.loss()));
                    TrainingEvaluation.points(e).forEach(metrics::add);
                    log.info(
                        "{}: step {} held-out loss {} (best {} at step {})",
                        runId,
                        e.step(),
                        e.loss(),
                        e.bestLoss(),
                        e.bestStep());
                  });
              hb.watch(
                  watchdog,
                  // no stop request: a stalled step would not reach the next step boundary anyway,
                  // and the attempt's last published checkpoint is what the retry resumes from
                  quiet ->
                      trainingThread.interrupt()); // reaches a blocked wait or the next micro-batch
              watchdog.arm(firstStep);
              io.loraflow.engine.train.TrainOutcome result;
              try {
                result = session.trainer.run();
              } finally {
                running.remove(session);
                metrics.flush();
              }
              var interruption = hb.interruption();
              if (interruption.isPresent()
                  && !(interruption.get() instanceof ActivityWorkerShutdownException)) {
                throw interruption.get(); // cancelled: checkpointed, report it as cancelled
              }
              if (hb.stall().isPresent()) {
                throw stalled(runId, hb.stall().get(), beat.get(), null);
              }
              if (result.stopped() && !result.finished()) {
                throw ApplicationFailure.newFailure(
                    "worker stopping: checkpointed at step "
                        + result.steps()
                        + " of "
                        + result.totalSteps()
                        + ", the next attempt resumes there",
                    WORKER_STOPPING);
              }
              return finish(
                  req, session, result, resume.isPresent(), startedAt, work, asked, attemptConfig);
            }
          });
    } catch (InterruptedException e) {
      if (hb.stall().isPresent()) {
        Thread.interrupted(); // the watchdog's interrupt has done its job
        throw stalled(runId, hb.stall().get(), beat.get(), e);
      }
      Thread.currentThread().interrupt();
      throw new IllegalStateException("training of " + runId + " interrupted", e);
    } catch (IOException e) {
      if (hb.stall().isPresent()) {
        throw stalled(runId, hb.stall().get(), beat.get(), e);
      }
      throw new UncheckedIOException("training of " + runId + " failed: " + e.getMessage(), e);
    } finally {
      hb.close();
      Thread.interrupted(); // never hand an interrupt flag back to the SDK's thread pool
      BaseModelCache.deleteTree(work);
    }
  }

  /** The retryable failure of an attempt whose training stopped making progress. */
  private static ApplicationFailure stalled(
      String runId, StallWatchdog.Stall stall, TrainHeartbeat last, Throwable cause) {
    return ApplicationFailure.newFailureWithCause(
        "training of "
            + runId
            + " stalled: no optimizer step for "
            + stall.quiet().toSeconds()
            + " s after step "
            + (stall.lastStep() < 0 ? "(none yet)" : Long.toString(stall.lastStep()))
            + " (stall window "
            + stall.window().toSeconds()
            + " s, from the observed step time; LORAFLOW_STALL_* settings); the next attempt"
            + " resumes from "
            + (last.checkpointKey() == null ? "the start" : last.checkpointKey()),
        FailureTypes.TRAINING_STALLED,
        cause);
  }

  /** The OOM fallback goes to MLflow as tags (params cannot change once logged). */
  private void recordFallback(TrainRequest req, TrainConfig from, TrainConfig to) {
    if (req.mlflowRunId() == null) {
      return;
    }
    try {
      Map<String, String> tags = new HashMap<>();
      tags.put("loraflow.oom_fallback", OutOfMemory.describe(from, to));
      tags.put("loraflow.effective_batch_size", Integer.toString(to.batchSize()));
      tags.put("loraflow.effective_grad_accum", Integer.toString(to.gradAccumulation()));
      tracking.setTags(req.mlflowRunId(), tags);
    } catch (RuntimeException e) {
      log.warn("{}: could not record the OOM fallback in MLflow: {}", req.runId(), e.toString());
    }
  }

  /** Durability-test faults (off unless {@link GpuSettings.Faults} says otherwise). */
  private void injectFaults(StepMetrics m, long firstStep, TrainConfig config, int attempt) {
    GpuSettings.Faults f = settings.faults();
    if (f.oomFromBatch() > 0
        && m.step() == firstStep + 1
        && config.batchSize() >= f.oomFromBatch()) {
      throw new ai.djl.engine.EngineException(
          "CUDA out of memory. Tried to allocate 2.00 GiB (injected: LORAFLOW_FAULT_OOM_FROM_BATCH="
              + f.oomFromBatch()
              + ")");
    }
    if (f.hangAtStep() > 0 && m.step() == f.hangAtStep() && attempt == 1) {
      log.warn("fault injection: training thread blocks after step {}", m.step());
      try {
        Thread.sleep(Duration.ofHours(1).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the trainer throws at its next micro-batch
      }
    }
  }

  private TrainResult finish(
      TrainRequest req,
      EngineSession session,
      io.loraflow.engine.train.TrainOutcome result,
      boolean resumed,
      long startedAt,
      Path work,
      TrainConfig asked,
      TrainConfig used)
      throws IOException {
    String runId = req.runId();
    Path adapterDir = work.resolve("adapter");
    session.trainer.savePublishedAdapter(adapterDir); // the best by held-out loss, if evaluated
    StepHistory.Snapshot history = result.history();
    double finalLoss = history.last() == null ? Double.NaN : history.last().loss();
    Map<String, Double> summary = new HashMap<>();
    summary.put("train_loss", finalLoss);
    summary.put("train_steps", (double) result.steps());
    summary.put("train_seconds_last_attempt", (System.nanoTime() - startedAt) / 1e9);
    summary.put("resumes", resumed ? 1.0 : 0.0);
    summary.put("batch_size_used", (double) used.batchSize());
    summary.put("grad_accum_used", (double) used.gradAccumulation());
    summary.put("oom_fallbacks", asked.batchSize() == used.batchSize() ? 0.0 : 1.0);
    TrainingEvaluation.summarize(result, summary);
    long bestStep = result.bestEvalLoss() != null ? result.bestStep() : result.steps();
    history.meanTokensPerSecond().ifPresent(t -> summary.put("tokens_per_second", t));
    if (history.totals().recorded() > 0) {
      summary.put("peak_memory_bytes", (double) history.totals().peakMemoryBytes());
    }
    String lastCheckpoint =
        result.lastCheckpoint() == null ? null : StorageKeys.checkpoint(runId, result.steps());

    // loss curve: MinIO and MLflow
    List<LossCurve.Point> curve = new ArrayList<>();
    history.curve().forEach(p -> curve.add(new LossCurve.Point(p.step(), p.loss())));
    byte[] png = LossCurve.png("training loss, " + runId, curve);
    store.put(StorageKeys.lossCurvePng(runId), png);

    // adapter: files first, manifest (with the result) last
    Map<String, String> meta = new HashMap<>();
    meta.put("steps", Long.toString(result.steps()));
    meta.put("finalLoss", Double.toString(finalLoss));
    meta.put("bestStep", Long.toString(bestStep));
    meta.put("stoppedEarly", Boolean.toString(result.stoppedEarly()));
    if (result.bestEvalLoss() != null) {
      meta.put("bestEvalLoss", Double.toString(result.bestEvalLoss()));
    }
    meta.put("metrics", JSON.writeValueAsString(summary));
    if (lastCheckpoint != null) {
      meta.put("checkpointKey", lastCheckpoint);
    }
    publisher.publish(adapterDir, strip(StorageKeys.adapterPrefix(runId)), meta);

    if (req.mlflowRunId() != null) {
      TrackedRun run = tracking.tracked(req.mlflowRunId());
      tracking.logArtifacts(run, "adapter", adapterDir);
      tracking.logArtifact(run, "plots/loss-curve.png", png);
    }
    log.info(
        "{}: trained {} steps, final loss {}, published the adapter of step {}",
        runId,
        result.steps(),
        finalLoss,
        bestStep);
    return new TrainResult(
        StorageKeys.adapterPrefix(runId),
        result.steps(),
        finalLoss,
        summary,
        lastCheckpoint,
        req.mlflowRunId(),
        bestStep,
        result.bestEvalLoss(),
        result.stoppedEarly());
  }

  private static TrainResult resultOf(Manifest adapter, TrainRequest req) {
    Map<String, String> meta = adapter.meta();
    Map<String, Double> metrics;
    try {
      metrics = JSON.readValue(meta.getOrDefault("metrics", "{}"), new TypeReference<>() {});
    } catch (IOException e) {
      metrics = Map.of();
    }
    long steps = Long.parseLong(meta.getOrDefault("steps", "0"));
    return new TrainResult(
        StorageKeys.adapterPrefix(req.runId()),
        steps,
        Double.parseDouble(meta.getOrDefault("finalLoss", "NaN")),
        metrics,
        meta.get("checkpointKey"),
        req.mlflowRunId(),
        Long.parseLong(meta.getOrDefault("bestStep", Long.toString(steps))),
        meta.containsKey("bestEvalLoss") ? Double.parseDouble(meta.get("bestEvalLoss")) : null,
        Boolean.parseBoolean(meta.getOrDefault("stoppedEarly", "false")));
  }

  private static List<MetricPoint> points(StepMetrics m) {
    long now = System.currentTimeMillis();
    List<MetricPoint> out = new ArrayList<>();
    out.add(new MetricPoint("train/loss", m.loss(), m.step(), now));
    out.add(new MetricPoint("train/learning_rate", m.learningRate(), m.step(), now));
    out.add(new MetricPoint("train/grad_norm", m.gradNorm(), m.step(), now));
    out.add(new MetricPoint("train/loss_scale", m.lossScale(), m.step(), now));
    out.add(new MetricPoint("train/tokens_per_second", m.tokensPerSecond(), m.step(), now));
    if (m.memoryBytes() >= 0) {
      out.add(new MetricPoint("train/memory_bytes", m.memoryBytes(), m.step(), now));
    }
    return out;
  }

  /** Progress with an ETA from this attempt's mean step time. */
  private static Progress progressOf(
      StepMetrics m, long firstStep, long loopStart, Double evalLoss) {
    long stepsThisAttempt = m.step() - firstStep;
    Long eta = null;
    if (stepsThisAttempt > 0) {
      double secondsPerStep = (System.nanoTime() - loopStart) / 1e9 / stepsThisAttempt;
      eta = Math.round(secondsPerStep * (m.totalSteps() - m.step()));
    }
    return new Progress(
        Phase.TRAINING,
        m.step(),
        m.totalSteps(),
        m.loss(),
        m.tokensPerSecond(),
        eta,
        "step " + m.step() + "/" + m.totalSteps(),
        evalLoss);
  }

  static String strip(String prefix) {
    return prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
  }
}
