package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.infra.StackSettings;
import io.loraflow.infra.TemporalConnection;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.BaseModelRequest;
import io.loraflow.workflows.EvalRequest;
import io.loraflow.workflows.EvalResult;
import io.loraflow.workflows.EvaluationSpec;
import io.loraflow.workflows.GpuActivities;
import io.loraflow.workflows.PromptsRef;
import io.loraflow.workflows.StorageKeys;
import io.loraflow.workflows.TrainRequest;
import io.loraflow.workflows.TrainResult;
import io.loraflow.workflows.TrainingSpec;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The train and evaluate activities on the real MinIO/MLflow and the real engine (tiny random
 * Llama, CPU, fp32): an attempt stopped like a SIGTERM'd worker resumes from its MinIO checkpoint
 * and ends with the same adapter bytes as an uninterrupted attempt.
 */
class TrainActivityIT {
  static ObjectStore store;
  static Tracking tracking;
  static TemporalConnection temporal;
  @TempDir static Path work;
  static BaseModelRef model;
  static GpuActivitiesImpl impl;
  static TestActivityEnvironment env;
  static GpuActivities activities;

  @BeforeAll
  static void setUp() {
    StackSettings stack = StackSettings.load().requireReachable(Duration.ofSeconds(2));
    store = ObjectStore.connect(stack);
    tracking = Tracking.connect(stack, store);
    temporal = TemporalConnection.open(stack, Duration.ofSeconds(10));
    GpuSettings settings =
        GpuSettings.load(
            Map.of(
                "LORAFLOW_GPU_WORK_DIR", work.toString(),
                "LORAFLOW_DEVICE", "cpu",
                "LORAFLOW_HEARTBEAT_SECONDS", "1"));
    impl = new GpuActivitiesImpl(settings, store, tracking);
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(impl);
    activities =
        env.newActivityStub(
            GpuActivities.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(10))
                .setHeartbeatTimeout(Duration.ofSeconds(60))
                .build());
    model =
        activities.prepareBaseModel(new BaseModelRequest("tiny-llama-random", "tiny-llama-random"));
  }

  @AfterAll
  static void tearDown() {
    env.close();
    temporal.close();
    tracking.close();
    store.close();
  }

  /** 40 synthetic FAQ pairs, tokenized and stored as formatPrompts does. */
  static PromptsRef prompts(String runId) throws Exception {
    return TinyRuns.prompts(store, model, work, runId, 40);
  }

  static TrainingSpec training() {
    return new TrainingSpec(
        2, 1e-3, 4, 8, 0.05, null, 64, 4, 1, 11L, "fp32", 3, "adamw", "cosine", 0.1);
  }

  @Test
  void stoppedAttemptResumesFromMinioAndEndsWithTheSameAdapter() throws Exception {
    String straight = "it-train-" + UUID.randomUUID().toString().substring(0, 8);
    long t0 = System.nanoTime();
    TrainResult a =
        activities.train(new TrainRequest(straight, model, prompts(straight), training(), null));
    double straightSeconds = (System.nanoTime() - t0) / 1e9;
    byte[] adapterA = store.getBytes(StorageKeys.adapterWeights(straight));
    assertTrue(a.steps() >= 6, "steps " + a.steps());
    assertTrue(
        new PrefixPublisher(store).readComplete("runs/" + straight + "/adapter").isPresent());

    // the same run again, stopped (SIGTERM path) once a checkpoint at step >= 3 is in MinIO
    String stopped = "it-train-" + UUID.randomUUID().toString().substring(0, 8);
    PromptsRef p = prompts(stopped);
    CheckpointStore checkpoints = new CheckpointStore(store);
    Thread stopper =
        new Thread(
            () -> {
              while (checkpoints.newestComplete(stopped).isEmpty()) {
                try {
                  Thread.sleep(20);
                } catch (InterruptedException e) {
                  return;
                }
              }
              impl.requestStop();
            });
    stopper.start();
    ActivityFailure f =
        assertThrows(
            ActivityFailure.class,
            () -> activities.train(new TrainRequest(stopped, model, p, training(), null)));
    stopper.join();
    ApplicationFailure cause = (ApplicationFailure) f.getCause();
    assertEquals(TrainActivity.WORKER_STOPPING, cause.getType());
    long stoppedAt = checkpoints.newestComplete(stopped).orElseThrow().step();
    assertTrue(stoppedAt < a.steps(), "stopped at " + stoppedAt + " of " + a.steps());

    // the retry (a fresh GPU worker) resumes from MinIO
    GpuSettings fresh =
        GpuSettings.load(
            Map.of(
                "LORAFLOW_GPU_WORK_DIR",
                work.resolve("fresh").toString(),
                "LORAFLOW_DEVICE",
                "cpu"));
    TestActivityEnvironment env2 = TestActivityEnvironment.newInstance();
    env2.registerActivitiesImplementations(new GpuActivitiesImpl(fresh, store, tracking));
    GpuActivities retry =
        env2.newActivityStub(
            GpuActivities.class,
            ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(10)).build());
    TrainResult b = retry.train(new TrainRequest(stopped, model, p, training(), null));
    byte[] adapterB = store.getBytes(StorageKeys.adapterWeights(stopped));
    assertEquals(a.steps(), b.steps());
    assertEquals(1.0, b.metrics().get("resumes"));
    System.out.printf(
        "[train] %d steps in %.1f s; stopped at step %d, resumed, identical adapter%n",
        a.steps(), straightSeconds, stoppedAt);

    // a retry after success returns the stored result without training again
    TrainResult again = retry.train(new TrainRequest(stopped, model, p, training(), null));
    assertEquals(b.steps(), again.steps());
    assertEquals(b.finalLoss(), again.finalLoss());

    // evaluate: base vs adapter, report in MinIO; then idempotent
    EvalResult eval =
        retry.evaluate(
            new EvalRequest(
                straight,
                model,
                prompts(straight),
                a.adapterKey(),
                new EvaluationSpec(8, 3, 42L),
                "fp32",
                null));
    assertEquals(3, eval.numPrompts());
    assertTrue(Double.isFinite(eval.baseEvalLoss()) && Double.isFinite(eval.adapterEvalLoss()));
    assertTrue(store.exists(StorageKeys.evalReportHtml(straight)));
    EvalResult again2 =
        retry.evaluate(
            new EvalRequest(
                straight, model, p, a.adapterKey(), new EvaluationSpec(8, 3, 42L), "fp32", null));
    assertEquals(eval, again2);
    System.out.printf(
        "[eval] eval loss base %.4f -> adapter %.4f%n",
        eval.baseEvalLoss(), eval.adapterEvalLoss());
    env2.close();
    // last, so everything above is checked even while the engine's first step is not reproducible
    assertArrayEquals(adapterA, adapterB, "resumed adapter differs from the uninterrupted one");
  }
}
