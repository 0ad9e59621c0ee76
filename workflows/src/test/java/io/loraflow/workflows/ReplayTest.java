package io.loraflow.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Histories recorded by earlier versions of the workflow must still replay: a change that breaks
 * this test needs a {@code Workflow.getVersion} branch (see FineTuneWorkflowImpl.PIPELINE_CHANGE).
 * Besides the happy path: a run cancelled by the pipeline's cancel signal, one cancelled by a plain
 * Temporal cancel request, and one whose evaluation failed (recorded by {@link HistoryRecorder}),
 * and a run that went through the admission gate (recorded by FineTuneWorkflowTest's happy path
 * with {@code -Dloraflow.writeHistory}).
 */
class ReplayTest {

  private static TestWorkflowEnvironment env;
  private static Worker worker;

  /**
   * One replay worker for every history. Its deadlock detection allows 30 s instead of 1 s: the
   * first replay loads and links the SDK's classes, which on a loaded 2-core CI machine can take
   * longer than a second without any workflow code blocking.
   */
  @BeforeAll
  static void replayWorker() {
    env = TestWorkflowEnvironment.newInstance();
    worker =
        env.newWorker(
            "replay",
            WorkerOptions.newBuilder().setDefaultDeadlockDetectionTimeout(30_000).build());
    worker.registerWorkflowImplementationTypes(FineTuneWorkflowImpl.class);
  }

  @AfterAll
  static void closeEnvironment() {
    env.close();
  }

  private static WorkflowExecutionHistory replay(String file) throws Exception {
    try (InputStream in = ReplayTest.class.getResourceAsStream("/histories/" + file)) {
      String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      WorkflowExecutionHistory history = WorkflowExecutionHistory.fromJson(json);
      WorkflowReplayer.replayWorkflowExecution(history, worker);
      return history;
    }
  }

  private static List<String> activities(WorkflowExecutionHistory h) {
    return h.getEvents().stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        .map(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName())
        .toList();
  }

  /** The failure the run ended with; the history must end in WORKFLOW_EXECUTION_FAILED. */
  private static io.temporal.api.failure.v1.Failure failure(WorkflowExecutionHistory h) {
    HistoryEvent last = h.getLastEvent();
    assertEquals(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, last.getEventType());
    return last.getWorkflowExecutionFailedEventAttributes().getFailure();
  }

  @Test
  void pipelineVersion1HappyPathStillReplays() throws Exception {
    WorkflowExecutionHistory h = replay("finetune-v1-happy.json");
    assertEquals(
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, h.getLastEvent().getEventType());
  }

  /** A run that waited at the admission gate (change "admission-gate"), recorded 2026-12-01. */
  @Test
  void admissionGateRunStillReplays() throws Exception {
    WorkflowExecutionHistory h = replay("finetune-v2-admission.json");
    assertEquals(
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, h.getLastEvent().getEventType());
    List<String> acts = activities(h);
    assertEquals(
        List.of("PrepareDataset", "RequestAdmission", "PrepareBaseModel"), acts.subList(0, 3));
    assertTrue(
        h.getEvents().stream()
            .anyMatch(
                e ->
                    e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
                        && e.getWorkflowExecutionSignaledEventAttributes()
                            .getSignalName()
                            .equals(io.loraflow.workflows.admission.Admission.SIGNAL)),
        "the grant");
    assertTrue(
        h.getEvents().stream()
            .anyMatch(
                e ->
                    e.getEventType()
                        == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED),
        "the release");
  }

  @Test
  void pipelineVersion1RunCancelledBySignalStillReplays() throws Exception {
    WorkflowExecutionHistory h = replay("finetune-v1-cancelled.json");
    var failure = failure(h);
    assertEquals("run cancelled: user request", failure.getMessage());
    assertEquals(
        FailureTypes.CANCELLED, failure.getApplicationFailureInfo().getType(), failure.toString());
    // training was cancelled mid-run, then tracking was closed; nothing after train ran
    assertEquals(
        List.of(
            "PrepareDataset",
            "PrepareBaseModel",
            "FormatPrompts",
            "OpenTrackingRun",
            "Train",
            "CloseTrackingRun"),
        activities(h));
  }

  @Test
  void pipelineVersion1RunCancelledByTemporalStillReplays() throws Exception {
    WorkflowExecutionHistory h = replay("finetune-v1-temporal-cancel.json");
    assertEquals(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, h.getLastEvent().getEventType());
    assertTrue(activities(h).contains("CloseTrackingRun"), activities(h).toString());
  }

  @Test
  void pipelineVersion1FailedEvaluationStillReplays() throws Exception {
    WorkflowExecutionHistory h = replay("finetune-v1-failed.json");
    String message = failure(h).getMessage();
    assertTrue(message.contains("out of GPU memory"), message);
    List<String> acts = activities(h);
    assertEquals("CloseTrackingRun", acts.get(acts.size() - 1), acts.toString());
    assertTrue(acts.contains("Evaluate") && !acts.contains("RegisterAdapter"), acts.toString());
  }
}
