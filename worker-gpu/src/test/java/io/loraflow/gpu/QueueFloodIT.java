package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.infra.StackSettings;
import io.loraflow.infra.TemporalConnection;
import io.loraflow.workflows.EvaluationSpec;
import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.RegistrySpec;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.TrainingSpec;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bounded load: {@code LORAFLOW_FLOOD_RUNS} (default 400) tiny runs submitted at once against ONE
 * JVM running the CPU and the GPU worker (as {@code loraflow worker all}, -Xmx3g). For {@code
 * LORAFLOW_FLOOD_MINUTES} (default 15) they drain one training at a time while the JVM's RSS is
 * sampled every second; then the rest are cancelled. Every run must end completed or cleanly
 * cancelled (no other failure: no activity starved past its timeouts), the first run must complete
 * in the first half of the window, and runs complete oldest first: the FIFO admission gate lets
 * {@code LORAFLOW_ADMISSION_SLOTS} (default 2) runs past prepareDataset at once, in start order, so
 * after the first {@code slots} completions (the first asks take the free slots, in Temporal's
 * dispatch order) runs complete oldest first ({@link QueueFloodOrder}). Opt-in: {@code
 * LORAFLOW_FLOOD_IT=1}.
 */
@EnabledIfEnvironmentVariable(named = "LORAFLOW_FLOOD_IT", matches = "1")
class QueueFloodIT {
  @TempDir Path tmp;

  static long rssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (Exception e) {
      // the process is gone
    }
    return -1;
  }

  @Test
  void aFloodOfRunsDrainsOneTrainingAtATimeUnderAMemoryBound() throws Exception {
    int runs = Integer.parseInt(System.getenv().getOrDefault("LORAFLOW_FLOOD_RUNS", "400"));
    double minutes =
        Double.parseDouble(System.getenv().getOrDefault("LORAFLOW_FLOOD_MINUTES", "15"));
    StackSettings stack = StackSettings.load().requireReachable(Duration.ofSeconds(2));
    try (TemporalConnection temporal = TemporalConnection.open(stack, Duration.ofSeconds(10));
        GpuWorkerProcess workers =
            GpuWorkerProcess.start(
                tmp.resolve("w"), tmp.resolve("workers.log"), Map.of(), AllWorkersMain.class)) {
      FineTunePipelineIT.temporal = temporal;
      AtomicLong peakKb = new AtomicLong();
      AtomicLong lastKb = new AtomicLong();
      Thread sampler =
          new Thread(
              () -> {
                while (!Thread.currentThread().isInterrupted()) {
                  long kb = rssKb(workers.pid());
                  lastKb.set(kb);
                  peakKb.accumulateAndGet(kb, Math::max);
                  try {
                    Thread.sleep(1000);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              });
      sampler.setDaemon(true);
      sampler.start();
      String batch = UUID.randomUUID().toString().substring(0, 6);
      List<String> ids = new ArrayList<>();
      long t0 = System.nanoTime();
      for (int i = 0; i < runs; i++) {
        String name = "flood-" + batch + "-" + i;
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
                    64,
                    8,
                    1,
                    (long) i,
                    "fp32",
                    100,
                    "adamw",
                    "constant",
                    0.0),
                0.1,
                new EvaluationSpec(8, 2, 42L),
                new RegistrySpec("it-flood-" + batch, false));
        String id = "finetune-" + name;
        FineTunePipelineIT.start(spec, id);
        ids.add(id);
      }
      double submitSeconds = (System.nanoTime() - t0) / 1e9;
      long deadline = t0 + (long) (minutes * 60e9);
      while (System.nanoTime() < deadline && workers.isAlive()) {
        Thread.sleep(5000);
      }
      Map<String, Integer> before = statuses(temporal, ids);
      long queued =
          temporal
              .client()
              .countWorkflows(
                  "WorkflowType = 'FineTune' AND ExecutionStatus = 'Running' AND LoraflowPhase ="
                      + " 'QUEUED'")
              .getCount();
      System.out.printf("[flood] at the end of the window %d runs still QUEUED%n", queued);
      long drainedKb = peakKb.get();
      // the order they finished in: submission indexes by close time
      List<long[]> closed = new ArrayList<>(); // {close time ms, submission index}
      for (int i = 0; i < ids.size(); i++) {
        var info = temporal.client().newUntypedWorkflowStub(ids.get(i)).describe();
        if (info.getStatus() == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
          var close = info.getRawDescription().getWorkflowExecutionInfo().getCloseTime();
          closed.add(new long[] {close.getSeconds() * 1000 + close.getNanos() / 1_000_000, i});
        }
      }
      closed.sort(java.util.Comparator.comparingLong(c -> c[0]));
      List<Long> order = closed.stream().map(c -> c[1]).toList();
      long startMs = System.currentTimeMillis() - (System.nanoTime() - t0) / 1_000_000;
      List<Long> seconds = closed.stream().map(c -> (c[0] - startMs) / 1000).toList();
      int inversions = 0;
      for (int a = 0; a < order.size(); a++) {
        for (int b = a + 1; b < order.size(); b++) {
          if (order.get(a) > order.get(b)) {
            inversions++;
          }
        }
      }
      System.out.printf(
          "[flood] completion order (submission index): %s; at seconds after the first submit:"
              + " %s; %d inversions%n",
          order, seconds, inversions);
      // cancel what is left, cleanly, through the workflow's own cancel signal
      for (String id : ids) {
        if (status(temporal, id) == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
          temporal.client().newWorkflowStub(FineTuneWorkflow.class, id).cancel("flood test over");
        }
      }
      int completed = 0;
      int cancelled = 0;
      List<String> other = new ArrayList<>();
      for (String id : ids) {
        WorkflowStub stub = temporal.client().newUntypedWorkflowStub(id);
        try {
          stub.getResult(10, TimeUnit.MINUTES, Object.class);
          completed++;
        } catch (WorkflowFailedException e) {
          if (e.getCause() instanceof ApplicationFailure a
              && FailureTypes.CANCELLED.equals(a.getType())) {
            cancelled++;
          } else {
            other.add(id + ": " + e.getCause());
          }
        }
      }
      sampler.interrupt();
      System.out.printf(
          "[flood] %d runs submitted in %.1f s; after %.1f min: %s; then %d completed, %d"
              + " cancelled cleanly, %d other; worker JVM (CPU+GPU, -Xmx3g) RSS peak %d MB"
              + " (during the drain %d MB, at the end %d MB); worker alive: %s%n",
          runs,
          submitSeconds,
          minutes,
          before,
          completed,
          cancelled,
          other.size(),
          peakKb.get() / 1024,
          drainedKb / 1024,
          lastKb.get() / 1024,
          workers.isAlive());
      assertTrue(workers.isAlive(), workers.tail());
      assertEquals(List.of(), other);
      assertEquals(runs, completed + cancelled);
      assertTrue(completed >= 1, "at least one run drained");
      // one by one from the start: the first run completes in the first half of the window,
      // however many are queued (before the admission gate, 100 queued runs completed none in 6
      // minutes: they all advanced together through the CPU stages)
      assertTrue(
          !seconds.isEmpty() && seconds.get(0) < minutes * 60 / 2,
          "first completion at " + seconds + " s of a " + minutes + " min window");
      // oldest first (the admission gate): the gate grants its `slots` free places to the first
      // asks on arrival, and which runs ask first is Temporal's dispatch order over 400 runs'
      // prepareDataset, not start order (session 17, a loaded machine: run 10 completed first).
      // Every later grant goes to the oldest waiting run, so after the first `slots` completions
      // the rest complete in submission order, each within `slots` places (the admitted runs'
      // trainings may swap on the GPU queue)
      int slots = io.loraflow.workflows.admission.AdmissionConfig.fromEnv(System.getenv()).slots();
      assertTrue(
          QueueFloodOrder.fifoAfterHead(order, slots),
          "not oldest first after the first " + slots + " completions: " + order);
    }
  }

  static WorkflowExecutionStatus status(TemporalConnection t, String id) {
    return t.client().newUntypedWorkflowStub(id).describe().getStatus();
  }

  static Map<String, Integer> statuses(TemporalConnection t, List<String> ids) {
    Map<String, Integer> out = new HashMap<>();
    for (String id : ids) {
      out.merge(status(t, id).name().replace("WORKFLOW_EXECUTION_STATUS_", ""), 1, Integer::sum);
    }
    return out;
  }
}
