package io.loraflow.workflows;

import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Records the histories {@link ReplayTest} replays, from the current workflow code and the {@link
 * FakeActivities}: a run cancelled with the pipeline's cancel signal (what the API and CLI send), a
 * run cancelled with a plain Temporal cancel request, and a run whose evaluation fails. Not a test:
 * it runs only when asked, and writes into src/test/resources/histories/:
 *
 * <pre>
 * mvn -o -pl workflows test -Dtest=HistoryRecorder -Dloraflow.recordHistories=true
 * </pre>
 *
 * Record a new file when the workflow changes on purpose (behind a {@code Workflow.getVersion}
 * branch); never overwrite the old ones, they are what running workflows look like.
 */
@EnabledIfSystemProperty(named = "loraflow.recordHistories", matches = "true")
class HistoryRecorder {

  private static final Path OUT = Path.of("src/test/resources/histories");
  private static final RunSpec SPEC = RunSpec.of("builtin:ecommerce-faq", "smollm2-135m-instruct");

  private interface Scenario {
    void run(WorkflowClient client, FakeActivities fakes, String id) throws Exception;
  }

  private static void record(String file, FakeActivities fakes, Scenario scenario)
      throws Exception {
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      for (String name : List.of("LoraflowBaseModel", "LoraflowDataset", "LoraflowPhase")) {
        env.registerSearchAttribute(name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
      }
      WorkflowClient client = env.getWorkflowClient();
      fakes.client = client;
      Worker cpu = env.newWorker(TaskQueues.CPU);
      cpu.registerWorkflowImplementationTypes(FineTuneWorkflowImpl.class);
      io.loraflow.workflows.admission.AdmissionGate.register(
          cpu, env.getWorkflowClient(), io.loraflow.workflows.admission.AdmissionConfig.DEFAULT);
      cpu.registerActivitiesImplementations(fakes.new Cpu());
      env.newWorker(
              TaskQueues.GPU,
              WorkerOptions.newBuilder()
                  .setMaxHeartbeatThrottleInterval(Duration.ofMillis(50))
                  .setDefaultHeartbeatThrottleInterval(Duration.ofMillis(50))
                  .build())
          .registerActivitiesImplementations(fakes.new Gpu());
      env.start();
      String id = file.replace(".json", "");
      try {
        scenario.run(client, fakes, id);
      } catch (io.temporal.client.WorkflowFailedException expected) {
        // every scenario here ends the run unsuccessfully
      }
      String json = client.fetchHistory(id).toJson(true);
      Files.writeString(OUT.resolve(file), json + "\n", StandardCharsets.UTF_8);
    }
  }

  private static void startAndAwaitTraining(WorkflowClient client, String id) throws Exception {
    FineTuneWorkflow wf =
        client.newWorkflowStub(
            FineTuneWorkflow.class,
            WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId(id).build());
    WorkflowClient.start(wf::run, SPEC);
    FineTuneWorkflow running = client.newWorkflowStub(FineTuneWorkflow.class, id);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (running.progress().step() != 5) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(id + ": training never reported step 5");
      }
      Thread.sleep(20);
    }
  }

  @Test
  void record() throws Exception {
    FakeActivities cancelled = new FakeActivities();
    cancelled.trainGate = new CountDownLatch(1); // never opened: only the cancel ends training
    record(
        "finetune-v1-cancelled.json",
        cancelled,
        (client, fakes, id) -> {
          startAndAwaitTraining(client, id);
          client.newWorkflowStub(FineTuneWorkflow.class, id).cancel("user request");
          client.newUntypedWorkflowStub(id).getResult(30, TimeUnit.SECONDS, FineTuneResult.class);
        });

    FakeActivities canceled = new FakeActivities();
    canceled.trainGate = new CountDownLatch(1);
    record(
        "finetune-v1-temporal-cancel.json",
        canceled,
        (client, fakes, id) -> {
          startAndAwaitTraining(client, id);
          WorkflowStub untyped = client.newUntypedWorkflowStub(id);
          untyped.cancel();
          untyped.getResult(30, TimeUnit.SECONDS, FineTuneResult.class);
        });

    FakeActivities failed = new FakeActivities();
    failed.evaluateFailure =
        () ->
            ApplicationFailure.newNonRetryableFailure(
                "evaluation ran out of GPU memory at batch 1 (8 prompts x 64 new tokens); lower"
                    + " evaluation.numPrompts",
                "EvaluationFailed");
    record(
        "finetune-v1-failed.json",
        failed,
        (client, fakes, id) ->
            client
                .newWorkflowStub(
                    FineTuneWorkflow.class,
                    WorkflowOptions.newBuilder()
                        .setTaskQueue(TaskQueues.CPU)
                        .setWorkflowId(id)
                        .build())
                .run(SPEC));
  }
}
