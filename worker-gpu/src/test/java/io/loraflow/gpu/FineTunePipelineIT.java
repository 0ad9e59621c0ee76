package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.infra.CpuActivitiesFactory;
import io.loraflow.infra.CpuWorker;
import io.loraflow.infra.ObjectInfo;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.infra.StackSettings;
import io.loraflow.infra.TemporalConnection;
import io.loraflow.infra.mlflow.ArtifactFile;
import io.loraflow.infra.mlflow.ModelRegistry;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.EvaluationSpec;
import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.RegistrySpec;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.StorageKeys;
import io.loraflow.workflows.TaskQueues;
import io.loraflow.workflows.TrainingSpec;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.worker.WorkerFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline on the real stack: a CPU worker in this JVM, GPU workers as separate JVMs
 * (killed with SIGKILL like preempted machines), the tiny random Llama on the CPU.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FineTunePipelineIT {
  static final Duration RUN_TIMEOUT = Duration.ofMinutes(8);
  static StackSettings stack;
  static TemporalConnection temporal;
  static ObjectStore store;
  static Tracking tracking;
  static ModelRegistry registry;
  static WorkerFactory cpuWorker;
  @TempDir static Path tmp;
  static byte[] uninterruptedAdapter;
  static double uninterruptedSeconds;

  @BeforeAll
  static void startCpuWorker() {
    stack = StackSettings.load().requireReachable(Duration.ofSeconds(2));
    temporal = TemporalConnection.open(stack, Duration.ofSeconds(10));
    store = ObjectStore.connect(stack);
    tracking = Tracking.connect(stack, store);
    registry = new ModelRegistry(tracking.rest());
    cpuWorker =
        CpuWorker.start(
            temporal.client(), CpuActivitiesFactory.create(stack, store, tracking, registry));
  }

  @AfterAll
  static void stop() {
    cpuWorker.shutdown();
    cpuWorker.awaitTermination(10, TimeUnit.SECONDS);
    tracking.close();
    store.close();
    temporal.close();
  }

  /** A small run: tiny model, the builtin FAQ, 2 epochs, checkpoints every 3 steps, CPU, fp32. */
  static RunSpec spec(String name, String modelName) {
    return new RunSpec(
        name,
        "builtin:ecommerce-faq",
        null,
        "tiny-llama-random",
        null,
        new TrainingSpec(
            2, 1e-3, 4, 8, 0.05, null, 128, 8, 1, 7L, "fp32", 3, "adamw", "cosine", 0.05),
        0.1,
        new EvaluationSpec(16, 4, 42L),
        new RegistrySpec(modelName, true));
  }

  static WorkflowStub start(RunSpec spec, String workflowId) {
    FineTuneWorkflow wf =
        temporal
            .client()
            .newWorkflowStub(
                FineTuneWorkflow.class,
                WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.CPU)
                    .setWorkflowId(workflowId)
                    .build());
    WorkflowClient.start(wf::run, spec);
    return WorkflowStub.fromTyped(wf);
  }

  static Progress progress(String workflowId) {
    return temporal.client().newWorkflowStub(FineTuneWorkflow.class, workflowId).progress();
  }

  static Progress awaitProgress(String workflowId, Predicate<Progress> p, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Progress last = null;
    while (System.nanoTime() < deadline) {
      last = progress(workflowId);
      if (p.test(last)) {
        return last;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("progress never matched; last " + last);
  }

  static GpuWorkerProcess gpuWorker(String name, Map<String, String> env) {
    return GpuWorkerProcess.start(
        tmp.resolve("gpu-" + name), tmp.resolve("gpu-" + name + ".log"), env);
  }

  static String id(String what) {
    return "it-" + what + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  @Order(1)
  void happyPathStoresAdapterTracksRunAndRegistersVersion() throws Exception {
    String workflowId = "finetune-" + id("happy");
    String model = "it-pipeline-" + UUID.randomUUID().toString().substring(0, 8);
    long t0 = System.nanoTime();
    FineTuneResult result;
    try (GpuWorkerProcess gpu = gpuWorker("happy", Map.of())) {
      WorkflowStub run = start(spec(workflowId.substring("finetune-".length()), model), workflowId);
      result = run.getResult(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS, FineTuneResult.class);
    }
    uninterruptedSeconds = (System.nanoTime() - t0) / 1e9;
    String runId = result.runId();
    assertEquals(workflowId, runId);

    // adapter in MinIO, complete
    assertTrue(new PrefixPublisher(store).readComplete("runs/" + runId + "/adapter").isPresent());
    uninterruptedAdapter = store.getBytes(StorageKeys.adapterWeights(runId));
    assertTrue(store.exists(StorageKeys.adapterConfig(runId)));
    assertTrue(store.exists(StorageKeys.evalReportJson(runId)));
    assertTrue(store.exists(StorageKeys.evalReportHtml(runId)));
    assertTrue(store.exists(StorageKeys.lossCurvePng(runId)));
    assertTrue(result.train().steps() > 0);

    // MLflow: params, metrics, artifacts
    String mlflowRunId = result.train().mlflowRunId();
    var mlRun = tracking.client().getRun(mlflowRunId);
    assertFalse(mlRun.getData().getParamsList().isEmpty());
    assertEquals(
        result.train().steps(),
        tracking.client().getMetricHistory(mlflowRunId, "train/loss").size());
    List<String> artifacts =
        tracking.listArtifacts(mlflowRunId, "adapter").stream().map(ArtifactFile::path).toList();
    assertTrue(artifacts.contains("adapter/adapter_model.safetensors"), artifacts.toString());
    assertTrue(
        tracking.listArtifacts(mlflowRunId, "eval").stream()
            .anyMatch(f -> f.path().equals("eval/report.html")));

    // registry: a version with candidate (and champion: first of its model)
    assertEquals(model, result.registration().modelName());
    assertTrue(result.registration().aliases().contains("candidate"));
    var version = registry.versionByAlias(model, "candidate").orElseThrow();
    assertEquals(mlflowRunId, version.runId());
    assertTrue(version.source().contains("runs/" + runId + "/adapter"), version.source());

    // links
    assertNotNull(result.links().mlflowRun());
    System.out.printf(
        "[happy] %s: %d steps, loss %.4f, eval loss %.4f -> %.4f, %.1f s%n",
        runId,
        result.train().steps(),
        result.train().finalLoss(),
        result.eval().baseEvalLoss(),
        result.eval().adapterEvalLoss(),
        uninterruptedSeconds);
  }

  @Test
  @Order(2)
  void killedGpuWorkersCostMinutesNotTheRunAndTheAdapterIsTheSame() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        uninterruptedAdapter != null, "needs the happy path");
    String workflowId = "finetune-" + id("preempt");
    String model = "it-preempt-" + UUID.randomUUID().toString().substring(0, 8);
    List<String> report = new ArrayList<>();
    long t0 = System.nanoTime();
    WorkflowStub run = start(spec(workflowId.substring("finetune-".length()), model), workflowId);

    // 1. mid-step: the checkpoint at step 3 is published, kill while the next steps run (the
    // worker's
    // log, polled every 100 ms, not the progress query: progress signals are throttled to one per
    // 10 s, and on an idle machine the tiny model trains all 24 steps faster than that)
    try (GpuWorkerProcess gpu = gpuWorker("kill1", Map.of())) {
      gpu.awaitLog(
          l -> l.contains("checkpoint published: ") && l.contains("/step-3/"), RUN_TIMEOUT);
      gpu.kill9();
    }
    long killed1 = System.nanoTime();
    // 2. mid-checkpoint upload: the worker pauses between checkpoint files and manifest
    try (GpuWorkerProcess gpu =
        gpuWorker("kill2", Map.of("LORAFLOW_FAULT_CHECKPOINT_PAUSE_MS", "4000"))) {
      String line =
          gpu.awaitLog(l -> l.contains("checkpoint files uploaded, manifest pending"), RUN_TIMEOUT);
      report.add(
          "resume after kill 1 (mid-step): " + secondsSince(killed1) + " s to next checkpoint");
      gpu.kill9();
      report.add("killed mid-checkpoint at: " + line.substring(line.indexOf("runs/")));
    }
    long killed2 = System.nanoTime();
    // 3. during evaluate
    try (GpuWorkerProcess gpu = gpuWorker("kill3", Map.of())) {
      awaitProgress(workflowId, p -> p.phase() == Phase.EVALUATING, RUN_TIMEOUT);
      report.add("kill 2 -> training done: " + secondsSince(killed2) + " s");
      gpu.kill9();
    }
    // a fresh worker finishes the run
    FineTuneResult result;
    try (GpuWorkerProcess gpu = gpuWorker("final", Map.of())) {
      result = run.getResult(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS, FineTuneResult.class);
    }
    double total = (System.nanoTime() - t0) / 1e9;
    byte[] adapter = store.getBytes(StorageKeys.adapterWeights(result.runId()));
    report.add(
        String.format(
            "total %.1f s vs uninterrupted %.1f s: %.1f s lost over 3 kills (%.1f s per kill)",
            total,
            uninterruptedSeconds,
            total - uninterruptedSeconds,
            (total - uninterruptedSeconds) / 3));
    report.forEach(l -> System.out.println("[preempt] " + l));
    assertArrayEquals(
        uninterruptedAdapter,
        adapter,
        "the adapter of a thrice-killed run equals the uninterrupted one");
    // no half-written checkpoint was ever trusted: every checkpoint prefix left is either complete
    // or has no manifest
    for (String prefix : store.listChildPrefixes(StorageKeys.checkpointsPrefix(result.runId()))) {
      boolean hasManifest = store.exists(prefix + StorageKeys.MANIFEST);
      boolean complete =
          new PrefixPublisher(store)
              .readComplete(prefix.substring(0, prefix.length() - 1))
              .isPresent();
      assertEquals(hasManifest, complete, prefix);
    }
  }

  @Test
  @Order(3)
  void badInputFailsAtOnceWithoutRetriesAndOverwritesNothing() throws Exception {
    // every object stored so far, with its etag
    Map<String, ObjectInfo> before =
        store.list("datasets/").stream().collect(Collectors.toMap(ObjectInfo::key, o -> o));
    String workflowId = "finetune-" + id("bad");
    RunSpec bad =
        new RunSpec(
            workflowId.substring("finetune-".length()),
            "builtin:ecommerce-faq",
            null,
            "gpt-17",
            null,
            null,
            null,
            null,
            null);
    try (GpuWorkerProcess gpu = gpuWorker("bad", Map.of())) {
      WorkflowStub run = start(bad, workflowId);
      WorkflowFailedException e =
          assertThrows(
              WorkflowFailedException.class,
              () -> run.getResult(120, TimeUnit.SECONDS, FineTuneResult.class));
      Throwable cause = e;
      while (cause.getCause() != null && !(cause instanceof ApplicationFailure)) {
        cause = cause.getCause();
      }
      ApplicationFailure failure = (ApplicationFailure) cause;
      assertTrue(
          List.of(FailureTypes.UNKNOWN_BASE_MODEL, FailureTypes.INVALID_RUN_SPEC)
              .contains(failure.getType()),
          failure.getType());
      assertTrue(failure.getOriginalMessage().contains("gpt-17"), failure.getOriginalMessage());
    }
    Map<String, ObjectInfo> after =
        store.list("datasets/").stream().collect(Collectors.toMap(ObjectInfo::key, o -> o));
    for (var e : before.entrySet()) {
      assertEquals(e.getValue().size(), after.get(e.getKey()).size(), e.getKey());
      assertEquals(e.getValue().lastModified(), after.get(e.getKey()).lastModified(), e.getKey());
    }
  }

  @Test
  @Order(4)
  void sigtermCheckpointsTheCurrentStepAndTheNextWorkerResumesThere() throws Exception {
    String workflowId = "finetune-" + id("sigterm");
    String model = "it-sigterm-" + UUID.randomUUID().toString().substring(0, 8);
    WorkflowStub run = start(spec(workflowId.substring("finetune-".length()), model), workflowId);
    long stoppedAt;
    try (GpuWorkerProcess gpu = gpuWorker("sigterm", Map.of())) {
      awaitProgress(workflowId, p -> p.phase() == Phase.TRAINING && p.step() >= 1, RUN_TIMEOUT);
      long t = System.nanoTime();
      int exit = gpu.terminate(Duration.ofSeconds(150));
      String line =
          gpu.awaitLog(
              l -> l.contains("worker stopping: checkpointed at step"), Duration.ofSeconds(1));
      stoppedAt = Long.parseLong(line.replaceAll(".*checkpointed at step (\\d+).*", "$1"));
      System.out.printf(
          "[sigterm] worker exited %d after %.1f s, checkpointed at step %d%n",
          exit, (System.nanoTime() - t) / 1e9, stoppedAt);
      assertTrue(gpu.lines().stream().anyMatch(l -> l.contains("gpu-worker: stopped")), gpu.tail());
    }
    assertTrue(
        new PrefixPublisher(store)
            .readComplete("runs/" + workflowId + "/checkpoints/step-" + stoppedAt)
            .isPresent(),
        "the stop checkpoint is complete in MinIO");
    FineTuneResult result;
    try (GpuWorkerProcess gpu = gpuWorker("after-sigterm", Map.of())) {
      result = run.getResult(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS, FineTuneResult.class);
      assertTrue(
          gpu.lines().stream()
              .anyMatch(
                  l ->
                      l.contains(
                          "resuming from runs/"
                              + workflowId
                              + "/checkpoints/step-"
                              + stoppedAt
                              + "/")),
          gpu.tail());
    }
    assertEquals(24, result.train().steps());
  }

  static String secondsSince(long nanos) {
    return String.format("%.1f", (System.nanoTime() - nanos) / 1e9);
  }
}
