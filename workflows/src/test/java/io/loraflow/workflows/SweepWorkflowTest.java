package io.loraflow.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.activity.Activity;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Sweep over real FineTune children with scripted activities (TestWorkflowEnvironment). */
class SweepWorkflowTest {

  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private final FakeActivities fakes = new FakeActivities();
  private final Map<String, TrainingSpec> configOfRun = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> trainAttempts = new ConcurrentHashMap<>();
  private final List<TrackingStart> opened = new CopyOnWriteArrayList<>();
  private final List<RegistrationRequest> registered = new CopyOnWriteArrayList<>();
  private final List<TrackingFinish> closed = new CopyOnWriteArrayList<>();
  private final AtomicInteger concurrent = new AtomicInteger();
  private final AtomicInteger maxConcurrent = new AtomicInteger();

  /** lr 5e-4 fails for good; r 8 loses its GPU worker twice, then trains. */
  private final class Gpu implements GpuActivities {
    private final GpuActivities delegate = fakes.new Gpu();

    @Override
    public BaseModelRef prepareBaseModel(BaseModelRequest request) {
      return delegate.prepareBaseModel(request);
    }

    @Override
    public TrainResult train(TrainRequest request) {
      int now = concurrent.incrementAndGet();
      maxConcurrent.accumulateAndGet(now, Math::max);
      try {
        Thread.sleep(100); // overlap, so the concurrency bound is tested
        configOfRun.put(request.runId(), request.training());
        int attempt = Activity.getExecutionContext().getInfo().getAttempt();
        trainAttempts.computeIfAbsent(request.runId(), k -> new AtomicInteger()).incrementAndGet();
        if (request.training().learningRate() == 5e-4) {
          throw ApplicationFailure.newNonRetryableFailure(
              "learning rate 5e-4 diverges here", FailureTypes.INVALID_TRAINING_CONFIG);
        }
        if (request.training().loraR() == 8 && attempt <= 2) {
          throw new IllegalStateException("GPU worker lost (attempt " + attempt + ")");
        }
        return delegate.train(request);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } finally {
        concurrent.decrementAndGet();
      }
    }

    @Override
    public EvalResult evaluate(EvalRequest request) {
      TrainingSpec t = configOfRun.get(request.runId());
      double loss = 1.0 + t.loraR() / 100.0 + t.learningRate() * 1000;
      Scores s = new Scores(0.5, 0.5, 0);
      return new EvalResult(2.0, loss, Math.exp(2), Math.exp(loss), s, s, 9, "j", "h");
    }
  }

  private final class Cpu implements CpuActivities {
    private final CpuActivities delegate = fakes.new Cpu();

    @Override
    public DatasetRef prepareDataset(DatasetRequest request) {
      return delegate.prepareDataset(request);
    }

    @Override
    public PromptsRef formatPrompts(PromptsRequest request) {
      return delegate.formatPrompts(request);
    }

    @Override
    public TrackingRun openTrackingRun(TrackingStart request) {
      opened.add(request);
      return new TrackingRun("mlflow-" + request.workflowId(), "7", "s3://x");
    }

    @Override
    public void closeTrackingRun(TrackingFinish request) {
      closed.add(request);
    }

    @Override
    public RegistrationResult registerAdapter(RegistrationRequest request) {
      registered.add(request);
      return new RegistrationResult(
          request.modelName(), "5", List.of("candidate"), false, "first of its model", "");
    }

    @Override
    public RunLinks runLinks(LinksRequest request) {
      return delegate.runLinks(request);
    }
  }

  @BeforeEach
  void setUp() {
    env = TestWorkflowEnvironment.newInstance();
    for (String name : List.of("LoraflowBaseModel", "LoraflowDataset", "LoraflowPhase")) {
      env.registerSearchAttribute(name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    }
    client = env.getWorkflowClient();
    fakes.client = client;
    Worker cpu = env.newWorker(TaskQueues.CPU);
    cpu.registerWorkflowImplementationTypes(FineTuneWorkflowImpl.class, SweepWorkflowImpl.class);
    io.loraflow.workflows.admission.AdmissionGate.register(
        cpu, env.getWorkflowClient(), io.loraflow.workflows.admission.AdmissionConfig.DEFAULT);
    cpu.registerActivitiesImplementations(new Cpu());
    env.newWorker(TaskQueues.GPU).registerActivitiesImplementations(new Gpu());
    env.start();
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  private SweepWorkflow newSweep(String id) {
    return client.newWorkflowStub(
        SweepWorkflow.class,
        WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId(id).build());
  }

  private static SweepSpec spec(List<Double> lrs) {
    return new SweepSpec(
        RunSpec.of("builtin:ecommerce-faq", "smollm2-135m-instruct"),
        new SweepGrid(List.of(8, 16), null, lrs, null),
        2,
        null);
  }

  @Test
  void childrenRunFailAndRetryIndependentlyAndTheBestIsRegistered() {
    SweepResult r = newSweep("sweep-t1").run(spec(List.of(2e-4, 5e-4)));

    // grid order: (8, 2e-4) (8, 5e-4) (16, 2e-4) (16, 5e-4)
    assertEquals(4, r.children().size());
    assertEquals(
        List.of("COMPLETED", "FAILED", "COMPLETED", "FAILED"),
        r.children().stream().map(SweepChild::status).toList());
    assertEquals(3, trainAttempts.get("sweep-t1-c0").get(), "r 8 retried past two lost workers");
    assertEquals(1, trainAttempts.get("sweep-t1-c1").get(), "bad input is not retried");
    assertEquals(1, trainAttempts.get("sweep-t1-c2").get());
    assertTrue(r.children().get(1).failure().contains("diverges"), r.children().get(1).failure());
    assertTrue(maxConcurrent.get() <= 2, "at most 2 children train at once: " + maxConcurrent);

    // the best: lowest adapter eval loss, (8, 2e-4) = 1.28 < (16, 2e-4) = 1.36
    assertEquals(0, r.bestIndex());
    assertEquals(1.28, r.children().get(0).adapterEvalLoss(), 1e-9);
    assertEquals("sweep-t1-c0", r.best().runId());
    assertEquals(1, registered.size(), "children do not register, the sweep registers once");
    RegistrationRequest reg = registered.get(0);
    assertEquals("sweep-t1", reg.workflowId());
    assertEquals("mlflow-sweep-t1-c0", reg.mlflowRunId());
    assertEquals(StorageKeys.adapterPrefix("sweep-t1-c0"), reg.adapterKey());
    assertEquals("5", r.registration().version());
    assertNull(r.children().get(1).adapterEvalLoss());

    // MLflow: one parent, the children nested under it
    TrackingStart parent =
        opened.stream().filter(o -> o.workflowId().equals("sweep-t1")).findFirst().orElseThrow();
    assertEquals("parent", parent.tags().get("loraflow.sweep"));
    assertEquals("[8, 16]", parent.params().get("grid_lora_r"));
    List<TrackingStart> kids =
        opened.stream().filter(o -> o.workflowId().startsWith("sweep-t1-c")).toList();
    assertEquals(4, kids.size());
    for (TrackingStart k : kids) {
      assertEquals("mlflow-sweep-t1", k.tags().get("mlflow.parentRunId"), k.workflowId());
      // the parent in the children's experiment, else MLflow's UI cannot nest them under it
      assertEquals(parent.experimentName(), k.experimentName(), k.workflowId());
      assertEquals("sweep-t1", k.tags().get("sweep.id"));
    }
    TrackingFinish parentClosed =
        closed.stream()
            .filter(c -> c.mlflowRunId().equals("mlflow-sweep-t1"))
            .findFirst()
            .orElseThrow();
    assertEquals("FINISHED", parentClosed.status());
    assertEquals(0.0, parentClosed.metrics().get("best_index"));
    assertEquals(2.0, parentClosed.metrics().get("children_failed"));
    assertEquals("sweep-t1-c0", parentClosed.tags().get("loraflow.best_child"));

    // the query shows every child's outcome
    assertEquals(r.children(), client.newWorkflowStub(SweepWorkflow.class, "sweep-t1").children());
  }

  @Test
  void aSweepWhoseChildrenAllFailFailsNamingEachChild() {
    var e =
        assertThrows(
            WorkflowFailedException.class, () -> newSweep("sweep-t2").run(spec(List.of(5e-4))));
    ApplicationFailure app = (ApplicationFailure) e.getCause();
    assertEquals(SweepWorkflow.ALL_CHILDREN_FAILED, app.getType());
    assertTrue(app.getOriginalMessage().contains("sweep-t2-c0"), app.getOriginalMessage());
    assertTrue(app.getOriginalMessage().contains("sweep-t2-c1"), app.getOriginalMessage());
    assertTrue(registered.isEmpty());
    assertTrue(
        closed.stream()
            .anyMatch(
                c -> c.mlflowRunId().equals("mlflow-sweep-t2") && c.status().equals("FAILED")));
  }

  @Test
  void badSweepSpecsAreRejectedNamingTheField() {
    SweepSpec tooBig =
        new SweepSpec(
            RunSpec.of("builtin:ecommerce-faq", "smollm2-135m-instruct"),
            new SweepGrid(
                List.of(1, 2, 3, 4, 5), List.of(1, 2, 3, 4), List.of(1e-4, 2e-4, 3e-4, 4e-4), null),
            null,
            null);
    String big = String.join(";", tooBig.problems());
    assertTrue(big.contains("grid.loraR lists 5 values; at most 4"), big);
    assertTrue(big.contains("grid.loraAlpha lists 4 values; at most 2"), big);
    assertTrue(!big.contains("grid.learningRate"), big);
    SweepSpec badR =
        new SweepSpec(
            RunSpec.of("builtin:ecommerce-faq", "smollm2-135m-instruct"),
            new SweepGrid(List.of(0, 4), null, null, null),
            0,
            null);
    String all = String.join(";", badR.problems());
    assertTrue(all.contains("grid: training.loraR must be in [1, 1024], got 0"), all);
    assertTrue(all.contains("maxConcurrent must be in [1, 16], got 0"), all);
    var e = assertThrows(WorkflowFailedException.class, () -> newSweep("sweep-t3").run(badR));
    assertEquals(FailureTypes.INVALID_RUN_SPEC, ((ApplicationFailure) e.getCause()).getType());
  }
}
