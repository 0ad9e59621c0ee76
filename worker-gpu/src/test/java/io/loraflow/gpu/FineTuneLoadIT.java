package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.infra.CpuActivitiesFactory;
import io.loraflow.infra.CpuWorker;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.StackSettings;
import io.loraflow.infra.TemporalConnection;
import io.loraflow.infra.mlflow.ModelRegistry;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.EvaluationSpec;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.RegistrySpec;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.TrainingSpec;
import io.temporal.client.WorkflowStub;
import io.temporal.worker.WorkerFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Load: {@value #RUNS} tiny runs started at once against ONE GPU worker (one activity at a time):
 * they queue on the GPU task queue and all finish. Opt-in (minutes on a CPU): {@code
 * LORAFLOW_LOAD_IT=1}.
 */
@EnabledIfEnvironmentVariable(named = "LORAFLOW_LOAD_IT", matches = "1")
class FineTuneLoadIT {
  static final int RUNS = 20;
  @TempDir Path tmp;

  @Test
  void twentyRunsQueueOnOneGpuWorkerAndAllFinish() throws Exception {
    StackSettings stack = StackSettings.load().requireReachable(Duration.ofSeconds(2));
    try (TemporalConnection temporal = TemporalConnection.open(stack, Duration.ofSeconds(10));
        ObjectStore store = ObjectStore.connect(stack);
        Tracking tracking = Tracking.connect(stack, store)) {
      WorkerFactory cpu =
          CpuWorker.start(
              temporal.client(),
              CpuActivitiesFactory.create(
                  stack, store, tracking, new ModelRegistry(tracking.rest())));
      FineTunePipelineIT.temporal = temporal;
      String batch = UUID.randomUUID().toString().substring(0, 6);
      try (GpuWorkerProcess gpu =
          GpuWorkerProcess.start(tmp.resolve("gpu"), tmp.resolve("gpu.log"), Map.of())) {
        long t0 = System.nanoTime();
        List<WorkflowStub> runs = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
          String name = "load-" + batch + "-" + i;
          RunSpec spec =
              new RunSpec(
                  name,
                  "builtin:ecommerce-faq",
                  null,
                  "tiny-llama-random",
                  null,
                  new TrainingSpec(
                      1,
                      1e-3,
                      4,
                      8,
                      0.0,
                      null,
                      128,
                      16,
                      1,
                      (long) i,
                      "fp32",
                      100,
                      "adamw",
                      "constant",
                      0.0),
                  0.1,
                  new EvaluationSpec(8, 2, 42L),
                  new RegistrySpec("it-load-" + batch, true));
          runs.add(FineTunePipelineIT.start(spec, "finetune-" + name));
        }
        List<Double> finishedAt = new ArrayList<>();
        for (WorkflowStub run : runs) {
          FineTuneResult r = run.getResult(30, TimeUnit.MINUTES, FineTuneResult.class);
          assertTrue(r.train().steps() > 0);
          finishedAt.add((System.nanoTime() - t0) / 1e9);
        }
        double total = (System.nanoTime() - t0) / 1e9;
        System.out.printf(
            "[load] %d runs on one GPU worker: all finished in %.1f s (%.1f s per run)%n",
            RUNS, total, total / RUNS);
        assertEquals(RUNS, finishedAt.size());
      } finally {
        cpu.shutdown();
        cpu.awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }
}
