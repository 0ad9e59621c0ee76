package io.loraflow.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FineTuneWorkflowTest {

  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private FakeActivities fakes;

  @BeforeEach
  void setUp() {
    env = TestWorkflowEnvironment.newInstance();
    for (String name : List.of("LoraflowBaseModel", "LoraflowDataset", "LoraflowPhase")) {
      env.registerSearchAttribute(name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    }
    client = env.getWorkflowClient();
    fakes = new FakeActivities();
    fakes.client = client;
    Worker cpu = env.newWorker(TaskQueues.CPU);
    cpu.registerWorkflowImplementationTypes(FineTuneWorkflowImpl.class);
    io.loraflow.workflows.admission.AdmissionGate.register(
        cpu, env.getWorkflowClient(), io.loraflow.workflows.admission.AdmissionConfig.DEFAULT);
    cpu.registerActivitiesImplementations(fakes.new Cpu());
    // Heartbeats are throttled to 0.8 x heartbeat timeout by default; cancel arrives with one.
    var gpuOptions =
        WorkerOptions.newBuilder()
            .setMaxHeartbeatThrottleInterval(Duration.ofMillis(50))
            .setDefaultHeartbeatThrottleInterval(Duration.ofMillis(50))
            .build();
    env.newWorker(TaskQueues.GPU, gpuOptions).registerActivitiesImplementations(fakes.new Gpu());
    env.start();
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  private static final RunSpec SPEC = RunSpec.of("builtin:ecommerce-faq", "smollm2-135m-instruct");

  private FineTuneWorkflow newRun(String id) {
    return client.newWorkflowStub(
        FineTuneWorkflow.class,
        WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId(id).build());
  }

  @Test
  void happyPathCallsStepsInOrderAndReturnsEverything() throws Exception {
    String id = WorkflowIds.forRun(SPEC, Instant.parse("2026-11-28T10:00:00Z"));
    FineTuneResult result = newRun(id).run(SPEC);

    assertEquals(
        List.of(
            "prepareDataset",
            "prepareBaseModel",
            "formatPrompts",
            "openTrackingRun",
            "train#1",
            "evaluate",
            "registerAdapter",
            "closeTrackingRun:FINISHED",
            "runLinks"),
        fakes.calls);
    assertEquals(id, result.runId());
    assertEquals("runs/" + id + "/adapter/", result.train().adapterKey());
    assertEquals("3", result.registration().version());
    assertEquals(1.2, result.eval().adapterEvalLoss());
    assertTrue(result.links().temporalUi().endsWith(id));
    assertEquals(SPEC, result.spec());

    // what the activities were given
    var prompts = (PromptsRequest) fakes.requests.get(2);
    assertEquals("models/smollm2-135m-instruct/tokenizer.json", prompts.model().tokenizerKey());
    assertEquals(512, prompts.maxSeqLen());
    var tracking = (TrackingStart) fakes.requests.get(3);
    assertEquals("loraflow-smollm2-135m-instruct", tracking.experimentName());
    assertEquals("2.0E-4", tracking.params().get("learning_rate"));
    var registration = (RegistrationRequest) fakes.requests.get(6);
    assertEquals(FakeActivities.SHA, registration.datasetSha256());
    assertEquals("mlflow-run-1", registration.mlflowRunId());
    var close = (TrackingFinish) fakes.requests.get(7);
    assertEquals(1.2, close.metrics().get("eval_loss_adapter"));

    WorkflowStub untyped = client.newUntypedWorkflowStub(id);
    var attributes = untyped.describe().getTypedSearchAttributes();
    assertEquals("COMPLETED", attributes.get(LoraflowSearchAttributes.PHASE));
    assertEquals(FakeActivities.SHA, attributes.get(LoraflowSearchAttributes.DATASET));
    assertEquals("smollm2-135m-instruct", attributes.get(LoraflowSearchAttributes.BASE_MODEL));
    assertEquals(
        Phase.COMPLETED, client.newWorkflowStub(FineTuneWorkflow.class, id).progress().phase());

    // the code replays its own history (determinism); -Dloraflow.writeHistory=<file> saves it as
    // the fixture that ReplayTest keeps replaying after future changes
    var history = client.fetchHistory(id);
    WorkflowReplayer.replayWorkflowExecution(history, FineTuneWorkflowImpl.class);
    String out = System.getProperty("loraflow.writeHistory");
    if (out != null) {
      java.nio.file.Files.writeString(java.nio.file.Path.of(out), history.toJson(true));
    }
  }

  /** Later stages first: a flood of queued runs drains one run at a time (ActivityPolicies). */
  @Test
  void everyStageIsScheduledAtItsTaskQueuePriority() {
    String id = "finetune-priorities";
    newRun(id).run(SPEC);
    java.util.Map<String, Integer> keys = new java.util.LinkedHashMap<>();
    for (var e : client.fetchHistory(id).getEvents()) {
      if (e.hasActivityTaskScheduledEventAttributes()) {
        var a = e.getActivityTaskScheduledEventAttributes();
        keys.put(a.getActivityType().getName(), a.getPriority().getPriorityKey());
      }
    }
    assertEquals(
        java.util.Map.of(
            "PrepareDataset", ActivityPolicies.PRIORITY_PREPARE_DATASET,
            "RequestAdmission", ActivityPolicies.PRIORITY_FINISH,
            "PrepareBaseModel", ActivityPolicies.PRIORITY_PREPARE_MODEL,
            "FormatPrompts", ActivityPolicies.PRIORITY_FORMAT,
            "OpenTrackingRun", ActivityPolicies.PRIORITY_FORMAT,
            "Train", ActivityPolicies.PRIORITY_TRAIN,
            "Evaluate", ActivityPolicies.PRIORITY_FINISH,
            "RegisterAdapter", ActivityPolicies.PRIORITY_FINISH,
            "CloseTrackingRun", ActivityPolicies.PRIORITY_FINISH,
            "RunLinks", ActivityPolicies.PRIORITY_FINISH),
        keys);
    assertTrue(
        ActivityPolicies.PRIORITY_FINISH < ActivityPolicies.PRIORITY_TRAIN
            && ActivityPolicies.PRIORITY_TRAIN < ActivityPolicies.PRIORITY_FORMAT
            && ActivityPolicies.PRIORITY_FORMAT < ActivityPolicies.PRIORITY_PREPARE_MODEL
            && ActivityPolicies.PRIORITY_PREPARE_MODEL < ActivityPolicies.PRIORITY_PREPARE_DATASET);
  }

  @Test
  void gpuTrainIsRetriedAfterAWorkerFailure() {
    fakes.trainFailures = 2;
    FineTuneResult result = newRun("finetune-retry").run(SPEC);
    assertEquals(60, result.train().steps());
    assertEquals(
        List.of("train#1", "train#2", "train#3"),
        fakes.calls.stream().filter(c -> c.startsWith("train")).toList());
    assertTrue(fakes.calls.contains("closeTrackingRun:FINISHED"));
  }

  @Test
  void badDatasetEndsTheRunAtOnceWithTheActivitysMessage() {
    String message = "record 3 (line 5): field 'answer' is missing; add an \"answer\" string";
    fakes.datasetFailure = () -> ApplicationFailure.newFailure(message, "InvalidDataset");
    FineTuneWorkflow run = newRun("finetune-bad-dataset");
    var e = assertThrows(WorkflowFailedException.class, () -> run.run(SPEC));
    ApplicationFailure failure = assertInstanceOf(ApplicationFailure.class, e.getCause());
    assertEquals("InvalidDataset", failure.getType());
    assertEquals(message, failure.getOriginalMessage());
    // thrown as retryable by the activity, but the type is in the do-not-retry list
    assertEquals(List.of("prepareDataset"), fakes.calls);
    Progress progress =
        client.newWorkflowStub(FineTuneWorkflow.class, "finetune-bad-dataset").progress();
    assertEquals(Phase.FAILED, progress.phase());
    assertTrue(progress.message().contains(message), progress.message());
  }

  @Test
  void invalidSpecFailsBeforeAnyActivity() {
    var bad =
        new RunSpec(null, "ftp://x/y", null, "smollm2-135m-instruct", null, null, 0.9, null, null);
    FineTuneWorkflow run = newRun("finetune-bad-spec");
    var e = assertThrows(WorkflowFailedException.class, () -> run.run(bad));
    ApplicationFailure failure = assertInstanceOf(ApplicationFailure.class, e.getCause());
    assertEquals(FailureTypes.INVALID_RUN_SPEC, failure.getType());
    assertTrue(failure.getOriginalMessage().contains("unsupported scheme 'ftp'"));
    assertTrue(failure.getOriginalMessage().contains("evalFraction must be in [0, 0.5], got 0.9"));
    assertTrue(fakes.calls.isEmpty(), fakes.calls.toString());
  }

  @Test
  void progressQueryShowsWhatTheGpuActivityReported() throws Exception {
    fakes.trainGate = new CountDownLatch(1);
    String id = "finetune-progress";
    WorkflowClient.start(newRun(id)::run, SPEC);
    FineTuneWorkflow running = client.newWorkflowStub(FineTuneWorkflow.class, id);
    Progress p = awaitProgress(id, q -> q.step() == 5);
    assertEquals(Phase.TRAINING, p.phase());
    assertEquals(60, p.totalSteps());
    assertEquals(1.25, p.loss());
    assertEquals(110L, p.etaSeconds());
    // the step counters come from the heartbeat, not from workflow state (no signal, no event)
    assertEquals(0, running.progress().step());
    assertEquals(Phase.TRAINING, running.progress().phase());
    // a late report (old worker's signal) from an earlier phase does not move progress backwards
    running.reportProgress(new Progress(Phase.PREPARING_MODEL, 1, 1, null, null, null, "late"));
    assertEquals(5, RunProgress.read(client, id).step());
    assertEquals(Phase.TRAINING, running.progress().phase());
    fakes.trainGate.countDown();
    FineTuneResult result = client.newWorkflowStub(FineTuneWorkflow.class, id).run(SPEC);
    assertEquals("3", result.registration().version());
  }

  @Test
  void cancelStopsTrainingClosesTrackingAndFailsWithTheReason() throws Exception {
    fakes.trainGate = new CountDownLatch(1); // never opened: only cancel ends training
    String id = "finetune-cancel";
    WorkflowClient.start(newRun(id)::run, SPEC);
    FineTuneWorkflow running = client.newWorkflowStub(FineTuneWorkflow.class, id);
    awaitProgress(id, q -> q.step() == 5);
    running.cancel("user request");
    WorkflowStub untyped = client.newUntypedWorkflowStub(id);
    var e =
        assertThrows(
            WorkflowFailedException.class,
            () ->
                untyped.getResult(30, java.util.concurrent.TimeUnit.SECONDS, FineTuneResult.class));
    ApplicationFailure failure = assertInstanceOf(ApplicationFailure.class, e.getCause());
    assertEquals(FailureTypes.CANCELLED, failure.getType());
    assertEquals("run cancelled: user request", failure.getOriginalMessage());
    assertTrue(fakes.calls.contains("train-cancelled"), fakes.calls.toString());
    assertTrue(fakes.calls.contains("closeTrackingRun:KILLED"), fakes.calls.toString());
    assertFalse(fakes.calls.contains("evaluate"));
    assertFalse(fakes.calls.contains("registerAdapter"));
    assertEquals(Phase.CANCELLED, running.progress().phase());
  }

  @Test
  void aPlainTemporalCancelEndsTheRunAsCanceledAndClosesTracking() throws Exception {
    fakes.trainGate = new CountDownLatch(1);
    String id = "finetune-temporal-cancel";
    WorkflowClient.start(newRun(id)::run, SPEC);
    FineTuneWorkflow running = client.newWorkflowStub(FineTuneWorkflow.class, id);
    awaitProgress(id, q -> q.step() == 5);
    WorkflowStub untyped = client.newUntypedWorkflowStub(id);
    untyped.cancel();
    var e =
        assertThrows(
            WorkflowFailedException.class,
            () ->
                untyped.getResult(30, java.util.concurrent.TimeUnit.SECONDS, FineTuneResult.class));
    assertInstanceOf(io.temporal.failure.CanceledFailure.class, e.getCause());
    assertTrue(fakes.calls.contains("train-cancelled"), fakes.calls.toString());
    assertTrue(fakes.calls.contains("closeTrackingRun:KILLED"), fakes.calls.toString());
    assertEquals(Phase.CANCELLED, running.progress().phase());
  }

  @Test
  void aDatasetTooSmallForTheSplitFailsBeforeAnyGpuStep() {
    fakes.datasetCount = 1; // evalFraction 0.1 holds out 1: nothing left to train on
    WorkflowFailedException e =
        assertThrows(WorkflowFailedException.class, () -> newRun("finetune-tiny-data").run(SPEC));
    ApplicationFailure failure = (ApplicationFailure) e.getCause();
    assertEquals(FailureTypes.INVALID_DATASET, failure.getType());
    assertTrue(
        failure.getOriginalMessage().contains("leaves none to train on"),
        failure.getOriginalMessage());
    assertEquals(List.of("prepareDataset"), fakes.calls, "no step waited for the GPU queue");
  }

  /** Polls the run's progress as the API reads it (query + heartbeat details). */
  private Progress awaitProgress(String id, java.util.function.Predicate<Progress> done)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      Progress p = RunProgress.read(client, id);
      if (done.test(p)) {
        return p;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("progress never matched; last: " + RunProgress.read(client, id));
  }

  /**
   * History does not grow with training length: 20,000 optimizer steps, each heartbeated with its
   * progress through the SDK to the (test) server, leave the run with the same few dozen events.
   */
  @Test
  void twentyThousandStepsKeepHistoryShort() {
    fakes.trainHeartbeats = 20_000;
    String id = "finetune-long";
    FineTuneResult result = newRun(id).run(SPEC);
    assertEquals("3", result.registration().version());
    var events = client.fetchHistory(id).getHistory().getEventsList();
    List<String> signals =
        events.stream()
            .filter(
                e ->
                    e.getEventType()
                        == io.temporal.api.enums.v1.EventType
                            .EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
            .map(e -> e.getWorkflowExecutionSignaledEventAttributes().getSignalName())
            .toList();
    System.out.printf("[history] 20000 heartbeated steps: %d events%n", events.size());
    // the one signal is the admission gate's grant; progress never travels as signals
    assertEquals(
        List.of(io.loraflow.workflows.admission.Admission.SIGNAL),
        signals,
        "progress must not travel as signals");
    assertTrue(events.size() < 300, events.size() + " history events");
  }
}
