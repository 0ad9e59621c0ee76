package io.loraflow.workflows;

import io.temporal.activity.Activity;
import io.temporal.client.ActivityCanceledException;
import io.temporal.client.WorkflowClient;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Scriptable stand-ins for the CPU and GPU activities that record every call in order. */
final class FakeActivities {

  final List<String> calls = new CopyOnWriteArrayList<>();
  final List<Object> requests = new CopyOnWriteArrayList<>();

  /** Thrown by prepareDataset when set. */
  volatile Supplier<RuntimeException> datasetFailure;

  /** Examples prepareDataset reports. */
  volatile int datasetCount = 90;

  /** Thrown by evaluate when set. */
  volatile Supplier<RuntimeException> evaluateFailure;

  /** train fails with a RuntimeException on attempts 1..trainFailures. */
  volatile int trainFailures;

  /** train heartbeats this many steps (with progress details) before it goes on. */
  volatile long trainHeartbeats;

  /**
   * When set, train heartbeats progress (step 5/60) until this latch opens (or it is cancelled).
   */
  volatile CountDownLatch trainGate;

  /** Per run id: train heartbeats (as with {@link #trainGate}) until that run's latch opens. */
  final Map<String, CountDownLatch> trainGates = new java.util.concurrent.ConcurrentHashMap<>();

  WorkflowClient client;

  static final String SHA = "0123456789abcdef".repeat(4);

  final class Cpu implements CpuActivities {
    @Override
    public DatasetRef prepareDataset(DatasetRequest request) {
      record("prepareDataset", request);
      if (datasetFailure != null) {
        throw datasetFailure.get();
      }
      return new DatasetRef(
          SHA,
          StorageKeys.datasetData(SHA),
          datasetCount,
          new DatasetStats(request.uri(), "nested-json", 30_000, 90, 0, 40, 200, 400));
    }

    @Override
    public PromptsRef formatPrompts(PromptsRequest request) {
      record("formatPrompts", request);
      String id = request.runId();
      return new PromptsRef(
          StorageKeys.promptsTrain(id),
          StorageKeys.promptsEval(id),
          StorageKeys.promptsEvalPrompts(id),
          StorageKeys.promptsStats(id),
          request.model().tokenizerKey(),
          new PromptStats("default", 81, 9, 80, 120, 150, 0, 5000, 0));
    }

    @Override
    public TrackingRun openTrackingRun(TrackingStart request) {
      record("openTrackingRun", request);
      return new TrackingRun("mlflow-run-1", "7", "s3://loraflow/mlflow/7/mlflow-run-1/artifacts");
    }

    @Override
    public void closeTrackingRun(TrackingFinish request) {
      record("closeTrackingRun:" + request.status(), request);
    }

    @Override
    public RegistrationResult registerAdapter(RegistrationRequest request) {
      record("registerAdapter", request);
      return new RegistrationResult(
          request.modelName(),
          "3",
          List.of("candidate", "champion"),
          true,
          "first champion of " + request.modelName(),
          "e".repeat(64));
    }

    @Override
    public RunLinks runLinks(LinksRequest request) {
      record("runLinks", request);
      return new RunLinks(
          "http://localhost:8233/namespaces/default/workflows/" + request.workflowId(),
          "http://localhost:5000/#/experiments/7/runs/" + request.mlflowRunId(),
          "http://localhost:9001/browser/loraflow/runs/" + request.workflowId());
    }
  }

  final class Gpu implements GpuActivities {
    @Override
    public BaseModelRef prepareBaseModel(BaseModelRequest request) {
      record("prepareBaseModel", request);
      return new BaseModelRef(
          request.baseModel(),
          request.storageName(),
          StorageKeys.modelPrefix(request.storageName()) + "model.gguf",
          StorageKeys.modelTokenizer(request.storageName()),
          null,
          List.of(2),
          "llama");
    }

    @Override
    public TrainResult train(TrainRequest request) {
      int attempt = Activity.getExecutionContext().getInfo().getAttempt();
      record("train#" + attempt, request);
      if (attempt <= trainFailures) {
        throw new IllegalStateException("GPU worker lost (attempt " + attempt + ")");
      }
      for (long step = 1; step <= trainHeartbeats; step++) {
        // as the GPU worker does: progress in the heartbeat details, one per optimizer step
        Activity.getExecutionContext()
            .heartbeat(
                new TrainHeartbeat(
                    step,
                    null,
                    2.0,
                    new Progress(
                        Phase.TRAINING,
                        step,
                        trainHeartbeats,
                        2.0,
                        1000.0,
                        0L,
                        "step " + step + "/" + trainHeartbeats)));
      }
      CountDownLatch gate = trainGates.getOrDefault(request.runId(), trainGate);
      if (gate != null) {
        Progress progress = new Progress(Phase.TRAINING, 5, 60, 1.25, 900.0, 110L, "step 5/60");
        try {
          while (!gate.await(50, TimeUnit.MILLISECONDS)) {
            Activity.getExecutionContext().heartbeat(new TrainHeartbeat(5, null, 1.25, progress));
          }
        } catch (ActivityCanceledException e) {
          record("train-cancelled", null);
          throw e;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      return new TrainResult(
          StorageKeys.adapterPrefix(request.runId()),
          60,
          0.42,
          Map.of("train_loss", 0.42),
          StorageKeys.checkpoint(request.runId(), 60),
          request.mlflowRunId());
    }

    @Override
    public EvalResult evaluate(EvalRequest request) {
      record("evaluate", request);
      if (evaluateFailure != null) {
        throw evaluateFailure.get();
      }
      String id = request.runId();
      return new EvalResult(
          2.0,
          1.2,
          Math.exp(2.0),
          Math.exp(1.2),
          new Scores(0.2, 0.25, 0),
          new Scores(0.6, 0.65, 0.1),
          9,
          StorageKeys.evalReportJson(id),
          StorageKeys.evalReportHtml(id));
    }
  }

  private void record(String call, Object request) {
    calls.add(call);
    requests.add(request);
  }
}
