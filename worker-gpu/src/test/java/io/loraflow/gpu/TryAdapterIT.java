package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.loraflow.engine.io.Fixtures;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.infra.StackSettings;
import io.loraflow.infra.TemporalConnection;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.BaseModelRequest;
import io.loraflow.workflows.GpuActivities;
import io.loraflow.workflows.TaskQueues;
import io.loraflow.workflows.TryAdapterWorkflow;
import io.loraflow.workflows.TryAdapterWorkflowImpl;
import io.loraflow.workflows.TryRequest;
import io.loraflow.workflows.TryResult;
import io.temporal.activity.ActivityOptions;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import io.temporal.worker.WorkerFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TryAdapter workflow on the real stack: the workflow on the CPU queue, the GPU activity in a
 * GPU worker of this JVM (CPU device, tiny random Llama), the base model and a PEFT adapter in
 * MinIO. The answer equals what {@link AdapterTrial} gives on the same files locally, and the
 * worker's try directory is empty afterwards; a missing adapter fails with the key named.
 */
class TryAdapterIT {
  static StackSettings stack;
  static TemporalConnection temporal;
  static ObjectStore store;
  static Tracking tracking;
  static WorkerFactory workers;
  static BaseModelRef model;
  @TempDir static Path work;

  @BeforeAll
  static void setUp() {
    stack = StackSettings.load().requireReachable(Duration.ofSeconds(2));
    temporal = TemporalConnection.open(stack, Duration.ofSeconds(10));
    store = ObjectStore.connect(stack);
    tracking = Tracking.connect(stack, store);
    GpuSettings settings =
        GpuSettings.load(
            Map.of(
                "LORAFLOW_GPU_WORK_DIR", work.resolve("gpu").toString(),
                "LORAFLOW_DEVICE", "cpu",
                "LORAFLOW_HEARTBEAT_SECONDS", "1"));
    GpuActivitiesImpl gpu = new GpuActivitiesImpl(settings, store, tracking);
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(gpu);
    model =
        env.newActivityStub(
                GpuActivities.class,
                ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(5)).build())
            .prepareBaseModel(new BaseModelRequest("tiny-llama-random", "tiny-llama-random"));
    env.close();
    workers = WorkerFactory.newInstance(temporal.client());
    workers
        .newWorker(TaskQueues.CPU)
        .registerWorkflowImplementationTypes(TryAdapterWorkflowImpl.class);
    workers.newWorker(TaskQueues.GPU).registerActivitiesImplementations(gpu);
    workers.start();
  }

  @AfterAll
  static void tearDown() {
    workers.shutdown();
    workers.awaitTermination(10, TimeUnit.SECONDS);
    tracking.close();
    store.close();
    temporal.close();
  }

  static TryResult tryIt(TryRequest request) {
    TryAdapterWorkflow wf =
        temporal
            .client()
            .newWorkflowStub(
                TryAdapterWorkflow.class,
                WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.CPU)
                    .setWorkflowId("try-it-" + UUID.randomUUID())
                    .setWorkflowExecutionTimeout(Duration.ofMinutes(3))
                    .build());
    return wf.run(request);
  }

  @Test
  void aStoredAdapterAnswersThroughTheGpuQueueAsItDoesLocally() throws Exception {
    String runId = "finetune-it-try-" + UUID.randomUUID().toString().substring(0, 8);
    Path tiny = TinyRandomLlama.ensure(work.resolve("tiny"), Fixtures.smollm2Gguf());
    Path adapter = AdapterTrialTest.writeAdapter(tiny, work.resolve("adapter"), 0.5f);
    new PrefixPublisher(store).publish(adapter, "runs/" + runId + "/adapter", Map.of());
    TryRequest request =
        new TryRequest(
            runId,
            model,
            "runs/" + runId + "/adapter/",
            AdapterTrialTest.PROMPT,
            12,
            0,
            42,
            "fp32");

    long t0 = System.nanoTime();
    TryResult got = tryIt(request);
    double seconds = (System.nanoTime() - t0) / 1e9;
    TryResult local = AdapterTrial.answer(tiny, adapter, request, Device.cpu(), () -> {});
    assertEquals(local.answer(), got.answer());
    assertEquals(local.promptTokens(), got.promptTokens());
    assertEquals(local.newTokens(), got.newTokens());
    try (Stream<Path> left = Files.list(work.resolve("gpu").resolve("try"))) {
      assertEquals(0, left.count(), "the try's work directory is deleted");
    }
    System.out.printf(
        "[try] %d prompt + %d new tokens through Temporal in %.1f s (activity %.1f s)%n",
        got.promptTokens(), got.newTokens(), seconds, got.seconds());
  }

  @Test
  void aMissingAdapterFailsTheTryNamingIt() {
    String runId = "finetune-it-try-missing-" + UUID.randomUUID().toString().substring(0, 8);
    TryRequest request =
        new TryRequest(
            runId, model, "runs/" + runId + "/adapter/", AdapterTrialTest.PROMPT, 4, 0, 42, "fp32");
    WorkflowFailedException e = assertThrows(WorkflowFailedException.class, () -> tryIt(request));
    ActivityFailure activity = assertInstanceOf(ActivityFailure.class, e.getCause());
    ApplicationFailure cause = assertInstanceOf(ApplicationFailure.class, activity.getCause());
    assertTrue(
        cause.getOriginalMessage().contains("runs/" + runId + "/adapter"),
        cause.getOriginalMessage());
  }
}
