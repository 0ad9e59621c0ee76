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
import io.loraflow.workflows.ActivityPolicies;
import io.loraflow.workflows.EvaluationSpec;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.RegistrySpec;
import io.loraflow.workflows.RunProgress;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.TaskQueues;
import io.loraflow.workflows.TrainingSpec;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowStub;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * History does not grow with training length, on the real stack with the real GPU activities: a
 * FineTune run of the tiny model for {@code LORAFLOW_LONG_RUN_STEPS} optimizer steps (default
 * 1,000; the proof uses 20,000) keeps its history under 300 events, with no signal at all,
 * while the API's way of reading progress (query + heartbeat details) follows the step counter.
 */
class LongRunHistoryIT {
  @TempDir Path tmp;

  @Test
  void aLongRunKeepsItsHistoryShortAndItsProgressVisible() throws Exception {
    long target = Long.parseLong(System.getenv().getOrDefault("LORAFLOW_LONG_RUN_STEPS", "1000"));
    StackSettings stack = StackSettings.load().requireReachable(Duration.ofSeconds(2));
    try (TemporalConnection temporal = TemporalConnection.open(stack, Duration.ofSeconds(10));
        ObjectStore store = ObjectStore.connect(stack);
        Tracking tracking = Tracking.connect(stack, store)) {
      WorkerFactory cpu =
          CpuWorker.start(
              temporal.client(),
              CpuActivitiesFactory.create(
                  stack, store, tracking, new ModelRegistry(tracking.rest())));
      WorkerFactory gpu = WorkerFactory.newInstance(temporal.client());
      gpu.newWorker(
              TaskQueues.GPU,
              WorkerOptions.newBuilder()
                  .setMaxConcurrentActivityExecutionSize(1)
                  .setMaxHeartbeatThrottleInterval(ActivityPolicies.GPU_HEARTBEAT_EVERY)
                  .build())
          .registerActivitiesImplementations(
              new GpuActivitiesImpl(
                  GpuSettings.load(
                      Map.of(
                          "LORAFLOW_GPU_WORK_DIR",
                          tmp.resolve("gpu").toString(),
                          "LORAFLOW_DEVICE",
                          "cpu")),
                  store,
                  tracking));
      gpu.start();
      FineTunePipelineIT.temporal = temporal;
      try {
        // builtin:ecommerce-faq: 99 pairs, 10 held out -> 89 steps per epoch at batch 1
        int epochs = (int) Math.max(1, (target + 88) / 89);
        String name = "long-" + UUID.randomUUID().toString().substring(0, 6);
        RunSpec spec =
            new RunSpec(
                name,
                "builtin:ecommerce-faq",
                null,
                "tiny-llama-random",
                null,
                new TrainingSpec(
                    epochs,
                    1e-3,
                    4,
                    8,
                    0.0,
                    null,
                    64,
                    1,
                    1,
                    5L,
                    "fp32",
                    (int) Math.max(100, target / 10),
                    "adamw",
                    "constant",
                    0.0),
                0.1,
                new EvaluationSpec(8, 2, 42L),
                new RegistrySpec("it-long-" + name, true));
        String id = "finetune-" + name;
        long t0 = System.nanoTime();
        WorkflowStub run = FineTunePipelineIT.start(spec, id);
        // progress as the API reads it moves with training, from heartbeats
        Progress seen =
            FineTunePipelineIT.awaitProgress(
                id, p -> p.phase() == Phase.TRAINING && p.step() >= 50, Duration.ofMinutes(10));
        assertTrue(seen.totalSteps() >= target, seen.toString());
        assertEquals(
            0,
            temporal
                .client()
                .newWorkflowStub(io.loraflow.workflows.FineTuneWorkflow.class, id)
                .progress()
                .step(),
            "no step counter in workflow state");
        FineTuneResult r = run.getResult(3, TimeUnit.HOURS, FineTuneResult.class);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(r.train().steps() >= target, "steps " + r.train().steps());
        List<HistoryEvent> events = temporal.client().fetchHistory(id).getHistory().getEventsList();
        List<String> signals =
            events.stream()
                .filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
                .map(e -> e.getWorkflowExecutionSignaledEventAttributes().getSignalName())
                .toList();
        System.out.printf(
            "[long-run] %d optimizer steps in %.0f s: %d history events, signals %s (workflow %s)%n",
            r.train().steps(), seconds, events.size(), signals, id);
        // the admission gate's grant only: progress never travels as signals
        assertEquals(List.of(io.loraflow.workflows.admission.Admission.SIGNAL), signals);
        assertTrue(events.size() < 300, events.size() + " events");
        assertTrue(RunProgress.read(temporal.client(), id).phase().isTerminal());
      } finally {
        gpu.shutdown();
        cpu.shutdown();
        gpu.awaitTermination(10, TimeUnit.SECONDS);
        cpu.awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }
}
