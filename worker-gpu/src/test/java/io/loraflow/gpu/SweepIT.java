package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.infra.CpuActivitiesFactory;
import io.loraflow.infra.CpuWorker;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.infra.StackSettings;
import io.loraflow.infra.TemporalConnection;
import io.loraflow.infra.mlflow.ModelRegistry;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.EvaluationSpec;
import io.loraflow.workflows.RegistrySpec;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.SweepChild;
import io.loraflow.workflows.SweepGrid;
import io.loraflow.workflows.SweepResult;
import io.loraflow.workflows.SweepSpec;
import io.loraflow.workflows.SweepWorkflow;
import io.loraflow.workflows.TaskQueues;
import io.loraflow.workflows.TrainingSpec;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.worker.WorkerFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep of 4 configurations (r x learning rate) of the tiny random Llama on the real stack: a CPU
 * worker in this JVM, one GPU worker JVM. Every child is a real FineTune run; the parent picks the
 * lowest held-out loss, registers it, and MLflow holds one parent run with the children nested.
 */
class SweepIT {
  static StackSettings stack;
  static TemporalConnection temporal;
  static ObjectStore store;
  static Tracking tracking;
  static ModelRegistry registry;
  static WorkerFactory cpuWorker;
  @TempDir static Path tmp;

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

  @Test
  void fourConfigurationsOfTheTinyModelRunAsChildrenAndTheBestIsRegistered() throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String sweepId = "sweep-it-" + suffix;
    String model = "it-sweep-" + suffix;
    RunSpec base =
        new RunSpec(
            null,
            "builtin:ecommerce-faq",
            null,
            "tiny-llama-random",
            null,
            new TrainingSpec(
                1, 1e-3, 4, 8, 0.0, null, 128, 8, 1, 7L, "fp32", 50, "adamw", "cosine", 0.05, 3,
                null, null),
            0.1,
            new EvaluationSpec(8, 2, 42L, 2),
            new RegistrySpec(model, true));
    SweepSpec spec =
        new SweepSpec(base, new SweepGrid(List.of(2, 4), null, List.of(1e-3, 2e-2), null), 2, 1);
    SweepWorkflow sweep =
        temporal
            .client()
            .newWorkflowStub(
                SweepWorkflow.class,
                WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.CPU)
                    .setWorkflowId(sweepId)
                    .setWorkflowExecutionTimeout(Duration.ofMinutes(20))
                    .build());
    long t0 = System.nanoTime();
    WorkflowClient.start(sweep::run, spec);
    WorkflowStub stub = WorkflowStub.fromTyped(sweep);
    SweepResult result = null;
    // a GPU worker that could not reach Temporal at start (a loaded machine) is started again,
    // as a supervisor would
    int workers = 0;
    GpuWorkerProcess gpu = null;
    try {
      while (result == null) {
        if (gpu == null || !gpu.isAlive()) {
          if (gpu != null) {
            gpu.close();
          }
          assertTrue(++workers <= 4, "the GPU worker died 4 times; last log: " + tmp);
          gpu =
              GpuWorkerProcess.start(
                  tmp.resolve("gpu-" + workers), tmp.resolve("gpu-" + workers + ".log"), Map.of());
        }
        assertTrue(
            System.nanoTime() - t0 < Duration.ofMinutes(20).toNanos(), "sweep took > 20 min");
        try {
          result = stub.getResult(10, TimeUnit.SECONDS, SweepResult.class);
        } catch (TimeoutException notYet) {
          // ask again
        } catch (io.temporal.client.WorkflowServiceException e) {
          // the dev server answers a long poll with RESOURCE_EXHAUSTED "Workflow is busy" while the
          // sweep's history is being written by its children's completions: transient, ask again
          if (!(e.getCause() instanceof io.grpc.StatusRuntimeException grpc
              && grpc.getStatus().getCode() == io.grpc.Status.Code.RESOURCE_EXHAUSTED)) {
            throw e;
          }
          Thread.sleep(1000);
        }
      }
    } finally {
      if (gpu != null) {
        gpu.close();
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;

    assertEquals(4, result.children().size());
    for (SweepChild c : result.children()) {
      assertEquals("COMPLETED", c.status(), c.workflowId() + ": " + c.failure());
      assertTrue(
          new PrefixPublisher(store)
              .readComplete("runs/" + c.workflowId() + "/adapter")
              .isPresent(),
          c.workflowId());
    }
    SweepChild best = result.children().get(result.bestIndex());
    for (SweepChild c : result.children()) {
      assertTrue(best.adapterEvalLoss() <= c.adapterEvalLoss(), c + " beats " + best);
    }
    // the best child's adapter is the registered version, linked to its MLflow run
    assertEquals(model, result.registration().modelName());
    var version = registry.versionByAlias(model, "candidate").orElseThrow();
    assertEquals(best.mlflowRunId(), version.runId());
    assertTrue(version.source().contains("runs/" + best.workflowId() + "/adapter"));
    // the children did not register: one version only
    assertEquals("1", result.registration().version());

    // MLflow: the children are nested under the parent, and have eval/loss series
    String parent = result.mlflowRunId();
    var parentRun = tracking.client().getRun(parent);
    Map<String, String> parentTags =
        parentRun.getData().getTagsList().stream()
            .collect(Collectors.toMap(t -> t.getKey(), t -> t.getValue(), (a, b) -> b));
    assertEquals(best.workflowId(), parentTags.get("loraflow.best_child"));
    for (SweepChild c : result.children()) {
      var run = tracking.client().getRun(c.mlflowRunId());
      Map<String, String> tags =
          run.getData().getTagsList().stream()
              .collect(Collectors.toMap(t -> t.getKey(), t -> t.getValue(), (a, b) -> b));
      assertEquals(parent, tags.get("mlflow.parentRunId"), c.workflowId());
      assertTrue(
          !tracking.client().getMetricHistory(c.mlflowRunId(), "eval/loss").isEmpty(),
          "held-out loss series of " + c.workflowId());
    }
    System.out.printf(
        "[sweep] %s: %d children in %.1f s; best %s (r %d, lr %s) eval loss %.4f; all: %s%n",
        sweepId,
        result.children().size(),
        seconds,
        best.workflowId(),
        best.loraR(),
        best.learningRate(),
        best.adapterEvalLoss(),
        result.children().stream()
            .map(c -> "r" + c.loraR() + "/lr" + c.learningRate() + "=" + c.adapterEvalLoss())
            .toList());
  }
}
