package io.loraflow.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.workflows.admission.AdmissionConfig;
import io.loraflow.workflows.admission.AdmissionGate;
import io.loraflow.workflows.admission.AdmissionGateWorkflow;
import io.loraflow.workflows.admission.AdmissionQueue;
import io.loraflow.workflows.admission.GateState;
import io.temporal.api.enums.v1.EventType;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The FIFO admission gate with real FineTune runs (scripted activities): oldest first, at most K at
 * once, slots freed on cancel, failure and termination, and a queue that survives the gate's
 * continue-as-new.
 */
class AdmissionGateWorkflowTest {

  private static final RunSpec SPEC = RunSpec.of("builtin:ecommerce-faq", "smollm2-135m-instruct");
  private static final Duration WAIT = Duration.ofSeconds(60);

  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private FakeActivities fakes;

  private void start(AdmissionConfig config) {
    env = TestWorkflowEnvironment.newInstance();
    for (String name : List.of("LoraflowBaseModel", "LoraflowDataset", "LoraflowPhase")) {
      env.registerSearchAttribute(name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    }
    client = env.getWorkflowClient();
    fakes = new FakeActivities();
    fakes.client = client;
    Worker cpu = env.newWorker(TaskQueues.CPU);
    cpu.registerWorkflowImplementationTypes(FineTuneWorkflowImpl.class);
    cpu.registerActivitiesImplementations(fakes.new Cpu());
    AdmissionGate.register(cpu, client, config);
    var gpuOptions =
        WorkerOptions.newBuilder()
            .setMaxHeartbeatThrottleInterval(Duration.ofMillis(50))
            .setDefaultHeartbeatThrottleInterval(Duration.ofMillis(50))
            .setMaxConcurrentActivityExecutionSize(50)
            .build();
    env.newWorker(TaskQueues.GPU, gpuOptions).registerActivitiesImplementations(fakes.new Gpu());
    env.start();
  }

  @AfterEach
  void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  private static AdmissionConfig slots(int k) {
    return new AdmissionConfig(k, 1, 10_000, 2_000);
  }

  /** Starts run {@code id}; its training holds until {@link #finishTraining} (a latch per run). */
  private WorkflowStub startRun(String id) {
    fakes.trainGates.put(id, new CountDownLatch(1));
    WorkflowStub stub =
        client.newUntypedWorkflowStub(
            FineTuneWorkflow.TYPE,
            WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId(id).build());
    stub.start(SPEC);
    return stub;
  }

  private void finishTraining(String id) {
    fakes.trainGates.get(id).countDown();
  }

  private Progress progress(String id) {
    return RunProgress.read(client, id);
  }

  private Progress awaitProgress(String id, Predicate<Progress> done) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    Progress p = progress(id);
    while (!done.test(p)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(id + " still at " + p);
      }
      Thread.sleep(50);
      p = progress(id);
    }
    return p;
  }

  private Progress awaitPhase(String id, Phase phase) throws InterruptedException {
    return awaitProgress(id, p -> p.phase() == phase);
  }

  /** Waits until {@code id} is QUEUED at the gate's position {@code n}. */
  private Progress awaitPosition(String id, int n) throws InterruptedException {
    return awaitProgress(
        id, p -> p.phase() == Phase.QUEUED && p.message().startsWith("position " + n + " of"));
  }

  private GateState gate() {
    return client.newWorkflowStub(AdmissionGateWorkflow.class, AdmissionGateWorkflow.ID).status();
  }

  /** Waits until {@code n} runs wait at the gate (which the first ask starts). */
  private void awaitWaiting(int n) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try {
        if (gate().queue().waiting().size() >= n) {
          return;
        }
      } catch (io.temporal.client.WorkflowNotFoundException notYet) {
        // the first ask starts the gate
      }
      assertTrue(System.nanoTime() < deadline, "fewer than " + n + " runs wait at the gate");
      Thread.sleep(50);
    }
  }

  /** Run ids in the order their training started. */
  private List<String> trainOrder() {
    List<String> out = new ArrayList<>();
    for (Object r : fakes.requests) {
      if (r instanceof TrainRequest t) {
        out.add(t.runId());
      }
    }
    return out;
  }

  private static String failureType(WorkflowStub run) {
    var e = assertThrows(WorkflowFailedException.class, () -> run.getResult(FineTuneResult.class));
    return assertInstanceOf(ApplicationFailure.class, e.getCause()).getType();
  }

  @Test
  void runsAreAdmittedOldestFirstOneAtATime() throws Exception {
    start(slots(1));
    List<WorkflowStub> runs = new ArrayList<>();
    runs.add(startRun("gate-q0"));
    awaitPhase("gate-q0", Phase.TRAINING);
    for (int i = 1; i < 4; i++) {
      runs.add(startRun("gate-q" + i));
      env.sleep(Duration.ofMillis(5)); // distinct start times
    }
    awaitWaiting(3);
    for (int i = 1; i < 4; i++) {
      Progress p = awaitPosition("gate-q" + i, i);
      assertEquals("position " + i + " of 3 waiting; 1 of 1 slots in use", p.message());
    }
    assertEquals(List.of("gate-q0"), trainOrder());
    // nothing but the first run prepared its model: the others wait with no activity
    assertEquals(1, fakes.calls.stream().filter("prepareBaseModel"::equals).count());
    for (int i = 0; i < 4; i++) {
      finishTraining("gate-q" + i);
      runs.get(i).getResult(FineTuneResult.class);
    }
    assertEquals(List.of("gate-q0", "gate-q1", "gate-q2", "gate-q3"), trainOrder());
    GateState gate = gate();
    assertEquals(List.of(), gate.queue().holders());
    assertEquals(List.of(), gate.queue().waiting());
    // the grant is one signal; history events of a waiting run do not grow with the wait
    var history = client.fetchHistory("gate-q3");
    long signals =
        history.getEvents().stream()
            .filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
            .count();
    assertEquals(1, signals);
    WorkflowReplayer.replayWorkflowExecution(history, FineTuneWorkflowImpl.class);
  }

  @Test
  void neverMoreThanKRunsPastTheGate() throws Exception {
    start(slots(2));
    List<String> ids = List.of("gate-k0", "gate-k1", "gate-k2", "gate-k3", "gate-k4");
    for (String id : ids) {
      startRun(id);
    }
    // the first two asks take the free slots, the others wait in start order
    awaitWaiting(3);
    List<String> holders = gate().queue().holders();
    assertEquals(2, holders.size());
    for (String id : holders) {
      awaitPhase(id, Phase.TRAINING);
    }
    Thread.sleep(1000); // time for a wrong grant to show
    assertEquals(holders, gate().queue().holders());
    assertEquals(2, trainOrder().size());
    List<String> waiting =
        gate().queue().waiting().stream().map(AdmissionQueue.Waiter::workflowId).toList();
    for (String id : waiting) {
      assertEquals(Phase.QUEUED, progress(id).phase());
    }
    // one slot frees: exactly one more run, the oldest waiting one, goes on
    finishTraining(holders.get(1));
    client.newUntypedWorkflowStub(holders.get(1)).getResult(FineTuneResult.class);
    awaitPhase(waiting.get(0), Phase.TRAINING);
    Thread.sleep(500);
    assertEquals(3, trainOrder().size());
    assertEquals(Phase.QUEUED, progress(waiting.get(1)).phase());
    assertEquals(Phase.QUEUED, progress(waiting.get(2)).phase());
    for (String id : ids) {
      finishTraining(id);
    }
    for (String id : ids) {
      client.newUntypedWorkflowStub(id).getResult(FineTuneResult.class);
    }
    // the last two were admitted together (two slots freed at once): either may train first
    List<String> order = trainOrder();
    // the first two were granted at once too: either may reach the GPU queue first
    assertEquals(java.util.Set.copyOf(holders), java.util.Set.copyOf(order.subList(0, 2)));
    assertEquals(waiting.get(0), order.get(2));
    assertEquals(
        java.util.Set.copyOf(waiting.subList(1, 3)), java.util.Set.copyOf(order.subList(3, 5)));
  }

  @Test
  void cancelledAndFailedRunsFreeTheirSlotOrPlace() throws Exception {
    start(slots(1));
    WorkflowStub holder = startRun("gate-c0");
    awaitPhase("gate-c0", Phase.TRAINING);
    WorkflowStub next = startRun("gate-c1");
    env.sleep(Duration.ofMillis(5));
    WorkflowStub waiting = startRun("gate-c2");
    awaitPosition("gate-c2", 2);

    // a waiting run that is cancelled leaves the queue
    client.newWorkflowStub(FineTuneWorkflow.class, "gate-c2").cancel("not needed");
    assertEquals(FailureTypes.CANCELLED, failureType(waiting));
    awaitProgress("gate-c1", p -> p.message().startsWith("position 1 of 1 waiting"));

    // a holder that is cancelled frees its slot
    client.newWorkflowStub(FineTuneWorkflow.class, "gate-c0").cancel("user request");
    assertEquals(FailureTypes.CANCELLED, failureType(holder));
    awaitPhase("gate-c1", Phase.TRAINING);

    // a holder that fails frees its slot
    WorkflowStub after = startRun("gate-c3");
    awaitPosition("gate-c3", 1);
    fakes.evaluateFailure =
        () -> ApplicationFailure.newNonRetryableFailure("no eval", FailureTypes.OUT_OF_MEMORY);
    finishTraining("gate-c1");
    assertEquals(FailureTypes.OUT_OF_MEMORY, failureType(next));
    awaitPhase("gate-c3", Phase.TRAINING);
    fakes.evaluateFailure = null;
    finishTraining("gate-c3");
    after.getResult(FineTuneResult.class);
    assertEquals(List.of("gate-c0", "gate-c1", "gate-c3"), trainOrder());
    assertEquals(List.of(), gate().queue().holders());
    assertEquals(List.of(), gate().queue().waiting());
  }

  @Test
  void aTerminatedHolderLosesItsSlot() throws Exception {
    start(slots(1)); // holders checked every second while runs wait
    WorkflowStub holder = startRun("gate-t0");
    awaitPhase("gate-t0", Phase.TRAINING);
    WorkflowStub next = startRun("gate-t1");
    awaitPosition("gate-t1", 1);
    holder.terminate("operator"); // no release signal: the gate must notice
    awaitPhase("gate-t1", Phase.TRAINING);
    finishTraining("gate-t1");
    next.getResult(FineTuneResult.class);
    assertEquals(List.of(), gate().queue().holders());
  }

  @Test
  void theQueueSurvivesTheGatesContinueAsNew() throws Exception {
    // a short gate history: the holder checks (every second while runs wait) fill it in seconds
    start(new AdmissionConfig(1, 1, 10_000, 40));
    List<WorkflowStub> runs = new ArrayList<>();
    runs.add(startRun("gate-n0"));
    awaitPhase("gate-n0", Phase.TRAINING);
    for (int i = 1; i < 4; i++) {
      runs.add(startRun("gate-n" + i));
      env.sleep(Duration.ofMillis(5)); // distinct start times
    }
    awaitPosition("gate-n3", 3);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (gate().generation() < 2) {
      assertTrue(System.nanoTime() < deadline, "the gate never continued as new: " + gate());
      Thread.sleep(100);
    }
    GateState gate = gate();
    assertEquals(List.of("gate-n0"), gate.queue().holders());
    assertEquals(
        List.of("gate-n1", "gate-n2", "gate-n3"),
        gate.queue().waiting().stream().map(AdmissionQueue.Waiter::workflowId).toList());
    for (int i = 1; i < 4; i++) {
      awaitPosition("gate-n" + i, i);
    }
    for (int i = 0; i < 4; i++) {
      finishTraining("gate-n" + i);
      runs.get(i).getResult(FineTuneResult.class);
    }
    assertEquals(List.of("gate-n0", "gate-n1", "gate-n2", "gate-n3"), trainOrder());
    var gateHistory = client.fetchHistory(AdmissionGateWorkflow.ID);
    assertTrue(
        gateHistory.getEvents().size() < 200, gateHistory.getEvents().size() + " gate events");
    // the gate's code replays its own (latest) history: deterministic
    WorkflowReplayer.replayWorkflowExecution(
        gateHistory, io.loraflow.workflows.admission.AdmissionGateWorkflowImpl.class);
  }

  @Test
  void aRunBeyondTheWaitingLimitFailsAtOnceWithTheSetting() throws Exception {
    start(new AdmissionConfig(1, 1, 1, 2_000));
    WorkflowStub holder = startRun("gate-r0");
    awaitPhase("gate-r0", Phase.TRAINING);
    WorkflowStub waiting = startRun("gate-r1");
    awaitPosition("gate-r1", 1);
    WorkflowStub refused = startRun("gate-r2");
    var e =
        assertThrows(WorkflowFailedException.class, () -> refused.getResult(FineTuneResult.class));
    var app = assertInstanceOf(ApplicationFailure.class, e.getCause());
    assertEquals(FailureTypes.ADMISSION_REFUSED, app.getType());
    assertTrue(
        app.getOriginalMessage().contains("LORAFLOW_ADMISSION_MAX_WAITING=1"), app.toString());
    finishTraining("gate-r0");
    finishTraining("gate-r1");
    holder.getResult(FineTuneResult.class);
    waiting.getResult(FineTuneResult.class);
  }
}
