package io.loraflow.workflows;

import io.loraflow.workflows.admission.Admission;
import io.loraflow.workflows.admission.AdmissionActivities;
import io.loraflow.workflows.admission.AdmissionGateWorkflow;
import io.loraflow.workflows.admission.ExternalSignals;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Workflow;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;

/**
 * The FineTune pipeline (see {@link FineTuneWorkflow} for the contract). Deterministic
 * orchestration only: every side effect is an activity.
 */
public class FineTuneWorkflowImpl implements FineTuneWorkflow {

  /** Change id for {@link Workflow#getVersion}; bump the max version when the pipeline changes. */
  static final String PIPELINE_CHANGE = "finetune-pipeline";

  static final int PIPELINE_VERSION = 1;

  /** Change id of the split check right after prepareDataset (runs started before skip it). */
  static final String FAIL_EARLY_CHANGE = "fail-early-split";

  /**
   * Change id of the FIFO admission gate after the fail-early checks (runs started before do not
   * ask the gate).
   */
  static final String ADMISSION_CHANGE = "admission-gate";

  private static final Logger log = Workflow.getLogger(FineTuneWorkflowImpl.class);

  // one stub per pipeline stage: each stage has its task-queue priority (ActivityPolicies)
  private final CpuActivities cpuDataset =
      stub(CpuActivities.class, ActivityPolicies.cpu(), ActivityPolicies.PRIORITY_PREPARE_DATASET);
  private final CpuActivities cpuFormat =
      stub(CpuActivities.class, ActivityPolicies.cpu(), ActivityPolicies.PRIORITY_FORMAT);
  private final CpuActivities cpu =
      stub(CpuActivities.class, ActivityPolicies.cpu(), ActivityPolicies.PRIORITY_FINISH);
  private final CpuActivities cpuCleanup =
      stub(CpuActivities.class, ActivityPolicies.cpuCleanup(), ActivityPolicies.PRIORITY_FINISH);
  private final AdmissionActivities admissionRequests =
      Workflow.newActivityStub(
          AdmissionActivities.class,
          ActivityPolicies.prioritized(
              ActivityOptions.newBuilder(ActivityPolicies.cpu())
                  // the ask is either sent or not when the run goes on (no ask after a release)
                  .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
                  .build(),
              ActivityPolicies.PRIORITY_FINISH));
  private final GpuActivities gpuPrepare =
      stub(
          GpuActivities.class,
          ActivityPolicies.gpuPrepare(),
          ActivityPolicies.PRIORITY_PREPARE_MODEL);
  private final GpuActivities gpuTrain =
      stub(GpuActivities.class, ActivityPolicies.gpuLong(), ActivityPolicies.PRIORITY_TRAIN);
  private final GpuActivities gpu =
      stub(GpuActivities.class, ActivityPolicies.gpuLong(), ActivityPolicies.PRIORITY_FINISH);

  private Progress progress = Progress.of(Phase.STARTING, "");
  private String cancelReason;
  private CancellationScope pipelineScope;
  private TrackingRun tracking;

  /** Set once this run has asked the admission gate for a slot: it must release it at the end. */
  private boolean admissionAsked;

  /** The gate's answer; null while waiting. */
  private Admission admission;

  private static <T> T stub(Class<T> type, ActivityOptions options, int priority) {
    return Workflow.newActivityStub(type, ActivityPolicies.prioritized(options, priority));
  }

  @Override
  public FineTuneResult run(RunSpec spec) {
    // Future changes branch on this version: `if (version >= 2) { new behaviour }`.
    int version = Workflow.getVersion(PIPELINE_CHANGE, Workflow.DEFAULT_VERSION, PIPELINE_VERSION);
    String workflowId = Workflow.getInfo().getWorkflowId();
    String runId = WorkflowIds.runIdOf(workflowId);
    log.info("FineTune {} (pipeline version {}) starting", workflowId, version);

    if (spec == null) {
      spec = RunSpec.of(null, null);
    }
    if (spec.baseModel() != null && !spec.baseModel().isBlank()) {
      Workflow.upsertTypedSearchAttributes(
          LoraflowSearchAttributes.BASE_MODEL.valueSet(cap(spec.baseModel())));
    }
    var problems = spec.problems();
    if (!problems.isEmpty()) {
      String message = "invalid run spec: " + String.join("; ", problems);
      enter(Phase.FAILED, message);
      throw ApplicationFailure.newNonRetryableFailure(message, FailureTypes.INVALID_RUN_SPEC);
    }

    RunSpec resolved = spec;
    FineTuneResult[] result = new FineTuneResult[1];
    pipelineScope =
        Workflow.newCancellationScope(() -> result[0] = pipeline(resolved, workflowId, runId));
    if (cancelReason != null) {
      pipelineScope.cancel(cancelReason); // cancel arrived before the run began
    }
    try {
      pipelineScope.run();
      return result[0];
    } catch (TemporalFailure e) {
      throw finish(e);
    } finally {
      if (admissionAsked) {
        releaseAdmission(workflowId);
      }
    }
  }

  /**
   * Waits, in phase QUEUED, until the FIFO admission gate gives this run a slot (no activity or
   * timer runs meanwhile: the history does not grow while it waits). Oldest run first: the order is
   * the runs' start times.
   */
  private void awaitAdmission(String workflowId) {
    enter(Phase.QUEUED, "waiting for a run slot at the admission gate");
    admissionAsked = true;
    admissionRequests.requestAdmission(
        workflowId, Workflow.getInfo().getRunStartedTimestampMillis());
    Workflow.await(() -> admission != null);
    if (!admission.granted()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "not admitted: " + admission.message(), FailureTypes.ADMISSION_REFUSED);
    }
    log.info("FineTune {} admitted", workflowId);
  }

  /** Frees this run's slot (or its place in the queue), whatever the outcome; never fails. */
  private void releaseAdmission(String workflowId) {
    Workflow.newDetachedCancellationScope(
            () -> {
              boolean told =
                  ExternalSignals.sendIfPresent(
                      () ->
                          Workflow.newExternalWorkflowStub(
                                  AdmissionGateWorkflow.class, AdmissionGateWorkflow.ID)
                              .release(workflowId));
              if (!told) {
                log.warn("admission gate not running; nothing to release for {}", workflowId);
              }
            })
        .run();
  }

  private FineTuneResult pipeline(RunSpec spec, String workflowId, String runId) {
    enter(Phase.PREPARING_DATASET, "fetching " + spec.dataset());
    DatasetRef dataset =
        cpuDataset.prepareDataset(new DatasetRequest(spec.dataset(), spec.datasetFormat(), runId));
    Workflow.upsertTypedSearchAttributes(
        LoraflowSearchAttributes.DATASET.valueSet(dataset.sha256()));
    // fail early: what can be checked on the CPU is checked before any step waits for a GPU
    if (Workflow.getVersion(FAIL_EARLY_CHANGE, Workflow.DEFAULT_VERSION, 1) >= 1) {
      var tooSmall = EvalSplit.problem(dataset.count(), spec.evalFraction());
      if (tooSmall.isPresent()) {
        throw ApplicationFailure.newNonRetryableFailure(
            "dataset " + spec.dataset() + ": " + tooSmall.get(), FailureTypes.INVALID_DATASET);
      }
    }
    // at most LORAFLOW_ADMISSION_SLOTS runs past this point at once, oldest first
    if (Workflow.getVersion(ADMISSION_CHANGE, Workflow.DEFAULT_VERSION, 1) >= 1) {
      awaitAdmission(workflowId);
    }

    enter(Phase.PREPARING_MODEL, "preparing " + spec.baseModel());
    BaseModelRef model =
        gpuPrepare.prepareBaseModel(
            new BaseModelRequest(spec.baseModel(), BaseModels.storageName(spec.baseModel())));

    enter(Phase.FORMATTING_PROMPTS, dataset.count() + " examples");
    PromptsRef prompts =
        cpuFormat.formatPrompts(
            new PromptsRequest(
                runId,
                dataset,
                model,
                spec.template(),
                spec.training().maxSeqLen(),
                spec.evalFraction(),
                spec.training().seed()));

    Map<String, String> tags = new LinkedHashMap<>(spec.tags()); // ours below win
    tags.put("loraflow.workflow_id", workflowId);
    tags.put("loraflow.run_id", runId);
    tags.put("loraflow.base_model", spec.baseModel());
    tags.put("loraflow.dataset_sha256", dataset.sha256());
    tags.put("loraflow.dataset", spec.dataset());
    tracking =
        cpuFormat.openTrackingRun(
            new TrackingStart(workflowId, spec.experimentName(), spec.toParams(), tags));

    enter(
        Phase.TRAINING,
        prompts.stats() == null ? "" : prompts.stats().trainExamples() + " training examples");
    TrainResult train =
        gpuTrain.train(
            new TrainRequest(runId, model, prompts, spec.training(), tracking.mlflowRunId()));

    enter(
        Phase.EVALUATING,
        "trained "
            + train.steps()
            + " steps, loss "
            + train.finalLoss()
            + (train.bestEvalLoss() == null
                ? ""
                : "; best held-out loss " + train.bestEvalLoss() + " at step " + train.bestStep())
            + (train.stoppedEarly() ? " (stopped early)" : ""));
    EvalResult eval =
        gpu.evaluate(
            new EvalRequest(
                runId,
                model,
                prompts,
                train.adapterKey(),
                spec.evaluation(),
                spec.training().precision(),
                tracking.mlflowRunId()));

    Map<String, String> registered = new LinkedHashMap<>();
    RegistrationResult registration = null;
    if (spec.registry().register()) {
      enter(
          Phase.REGISTERING, "eval loss " + eval.baseEvalLoss() + " -> " + eval.adapterEvalLoss());
      registration =
          cpu.registerAdapter(
              new RegistrationRequest(
                  spec.registeredModelName(),
                  spec.registry().promote(),
                  workflowId,
                  tracking.mlflowRunId(),
                  spec.baseModel(),
                  dataset.sha256(),
                  train.adapterKey(),
                  eval));
      registered.put("loraflow.registered_model", registration.modelName());
      registered.put("loraflow.registered_version", registration.version());
    }
    Map<String, Double> finalMetrics = evalMetrics(eval);
    finalMetrics.putAll(trainMetrics(train));
    cpu.closeTrackingRun(
        new TrackingFinish(tracking.mlflowRunId(), "FINISHED", finalMetrics, registered));
    RunLinks links =
        cpu.runLinks(
            new LinksRequest(
                workflowId,
                Workflow.getInfo().getRunId(),
                tracking.mlflowRunId(),
                tracking.experimentId()));

    enter(
        Phase.COMPLETED,
        registration == null
            ? "not registered (registry.register is false)"
            : registration.modelName()
                + " version "
                + registration.version()
                + " "
                + registration.aliases());
    return new FineTuneResult(
        runId, spec, model, dataset, prompts, train, eval, registration, links);
  }

  /** Records the end of a failed or cancelled run and returns what the workflow fails with. */
  private RuntimeException finish(TemporalFailure e) {
    boolean cancelledBySignal = cancelReason != null;
    boolean cancelledByTemporal =
        !cancelledBySignal && CancellationScope.current().isCancelRequested();
    String message = cancelledBySignal ? "cancelled: " + cancelReason : rootMessage(e);
    enter(cancelledBySignal || cancelledByTemporal ? Phase.CANCELLED : Phase.FAILED, message);
    if (tracking != null) {
      String status = cancelledBySignal || cancelledByTemporal ? "KILLED" : "FAILED";
      Workflow.newDetachedCancellationScope(
              () -> {
                try {
                  cpuCleanup.closeTrackingRun(
                      new TrackingFinish(
                          tracking.mlflowRunId(),
                          status,
                          Map.of(),
                          Map.of("loraflow.failure", cap(message))));
                } catch (ActivityFailure cleanupFailed) {
                  log.warn("could not close MLflow run {}", tracking.mlflowRunId(), cleanupFailed);
                }
              })
          .run();
    }
    if (cancelledBySignal) {
      return ApplicationFailure.newNonRetryableFailure(
          "run cancelled: " + cancelReason, FailureTypes.CANCELLED);
    }
    if (cancelledByTemporal) {
      return e;
    }
    ApplicationFailure app = rootApplicationFailure(e);
    if (app != null) {
      // Surface the activity's own type and message at the top of the Temporal UI.
      return ApplicationFailure.newNonRetryableFailureWithCause(
          app.getOriginalMessage(), app.getType(), e);
    }
    return e;
  }

  @Override
  public Progress progress() {
    return progress;
  }

  @Override
  public void admission(Admission answer) {
    if (admission == null && answer != null) {
      admission = answer;
    }
  }

  @Override
  public void cancel(String reason) {
    if (cancelReason != null || progress.phase().isTerminal()) {
      return;
    }
    cancelReason = reason == null || reason.isBlank() ? "no reason given" : reason;
    progress = Progress.of(progress.phase(), "cancelling: " + cancelReason);
    if (pipelineScope != null) {
      pipelineScope.cancel(cancelReason);
    }
  }

  @Override
  @Deprecated
  public void reportProgress(Progress report) {
    // Late reports of an earlier phase (or after cancel) would move the progress backwards.
    if (report != null && report.phase() == progress.phase() && cancelReason == null) {
      progress = report;
    }
  }

  private void enter(Phase phase, String message) {
    progress = Progress.of(phase, message);
    Workflow.upsertTypedSearchAttributes(LoraflowSearchAttributes.PHASE.valueSet(phase.name()));
  }

  static Map<String, Double> evalMetrics(EvalResult eval) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("eval_loss_base", eval.baseEvalLoss());
    m.put("eval_loss_adapter", eval.adapterEvalLoss());
    m.put("perplexity_base", eval.basePerplexity());
    m.put("perplexity_adapter", eval.adapterPerplexity());
    m.put("eval_loss_relative_change", eval.relativeLossChange());
    if (eval.base() != null) {
      m.put("rougeL_base", eval.base().rougeL());
      m.put("token_f1_base", eval.base().tokenF1());
      m.put("exact_match_base", eval.base().exactMatch());
    }
    if (eval.adapter() != null) {
      m.put("rougeL_adapter", eval.adapter().rougeL());
      m.put("token_f1_adapter", eval.adapter().tokenF1());
      m.put("exact_match_adapter", eval.adapter().exactMatch());
    }
    SeenEval seen = eval.seen();
    if (seen != null) {
      m.put("seen_eval_loss_base", seen.baseLoss());
      m.put("seen_eval_loss_adapter", seen.adapterLoss());
      if (seen.base() != null && seen.adapter() != null) {
        m.put("seen_rougeL_base", seen.base().rougeL());
        m.put("seen_token_f1_base", seen.base().tokenF1());
        m.put("seen_exact_match_base", seen.base().exactMatch());
        m.put("seen_rougeL_adapter", seen.adapter().rougeL());
        m.put("seen_token_f1_adapter", seen.adapter().tokenF1());
        m.put("seen_exact_match_adapter", seen.adapter().exactMatch());
      }
    }
    return m;
  }

  /** The published adapter's step and the early-stopping outcome, as final MLflow metrics. */
  static Map<String, Double> trainMetrics(TrainResult train) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("train_steps", (double) train.steps());
    if (train.bestStep() != null) {
      m.put("best_step", (double) train.bestStep());
    }
    if (train.bestEvalLoss() != null) {
      m.put("best_eval_loss", train.bestEvalLoss());
    }
    m.put("stopped_early", train.stoppedEarly() ? 1.0 : 0.0);
    return m;
  }

  /**
   * The failure the activity itself threw: the outermost ApplicationFailure under the activity
   * failure. Deeper ones are its Java causes converted by the SDK (e.g. a ConnectException under a
   * DatasetFetchFailed, a ModelFormatException under an InvalidBaseModel): their types are class
   * names, not failure types.
   */
  private static ApplicationFailure rootApplicationFailure(Throwable e) {
    ApplicationFailure found = null;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ApplicationFailure app && found == null) {
        found = app;
      }
      if (t instanceof CanceledFailure) {
        return null;
      }
    }
    return found;
  }

  private static String rootMessage(Throwable e) {
    ApplicationFailure app = rootApplicationFailure(e);
    if (app != null) {
      return app.getType() + ": " + app.getOriginalMessage();
    }
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }

  /** Keyword search attributes and MLflow tags have size limits; keep values short. */
  private static String cap(String s) {
    return s.length() <= 500 ? s : s.substring(0, 497) + "...";
  }
}
