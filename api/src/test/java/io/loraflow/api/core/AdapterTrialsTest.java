package io.loraflow.api.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.TryAdapterWorkflow;
import io.loraflow.workflows.TryAdapterWorkflowImpl;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.RetryState;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.client.WorkflowFailedException;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TimeoutFailure;
import org.junit.jupiter.api.Test;

/**
 * How a failed TryAdapter workflow reaches the caller: the failure shapes the workflow produces
 * (TryAdapterWorkflowTest shows them on the test server) mapped to 503 / 502 with a message that
 * says what happened and what to do, never a stack trace.
 */
class AdapterTrialsTest {

  /** A failed TryAdapter workflow whose generate activity failed with {@code cause}. */
  static WorkflowFailedException failedWith(Throwable cause) {
    ActivityFailure activity =
        new ActivityFailure(
            "activity failed",
            5,
            6,
            "generate",
            "1",
            RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED,
            "gpu-worker@host",
            cause);
    return new WorkflowFailedException(
        WorkflowExecution.newBuilder().setWorkflowId("try-1").setRunId("r").build(),
        TryAdapterWorkflow.TYPE,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        7,
        RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE,
        activity);
  }

  @Test
  void noGpuWorkerInTimeIsA503ThatSaysTryLater() {
    UpstreamException e =
        AdapterTrials.failed(
            "finetune-a",
            failedWith(new TimeoutFailure("t", null, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START)));
    assertEquals(503, e.status());
    assertEquals(
        "no GPU worker took the try within "
            + TryAdapterWorkflowImpl.SCHEDULE_TO_START.toSeconds()
            + " s (all busy training?); try again later",
        e.getMessage());
  }

  @Test
  void aLostWorkerAndAnOverlongTryAre502sNamingTheRun() {
    UpstreamException lost =
        AdapterTrials.failed(
            "finetune-a",
            failedWith(new TimeoutFailure("t", null, TimeoutType.TIMEOUT_TYPE_HEARTBEAT)));
    assertEquals(502, lost.status());
    assertEquals(
        "trying the adapter of finetune-a failed: the GPU worker stopped heartbeating (crashed or"
            + " lost); try again",
        lost.getMessage());
    UpstreamException slow =
        AdapterTrials.failed(
            "finetune-a",
            failedWith(new TimeoutFailure("t", null, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)));
    assertEquals(502, slow.status());
    assertTrue(slow.getMessage().contains("TIMEOUT_TYPE_START_TO_CLOSE"), slow.getMessage());
  }

  @Test
  void theActivitysOwnMessageIsPassedOnWithoutItsStackTrace() {
    ApplicationFailure af =
        ApplicationFailure.newNonRetryableFailure(
            "maxNewTokens 900 is outside [1, 512]", FailureTypes.INVALID_RUN_SPEC);
    UpstreamException e = AdapterTrials.failed("finetune-a", failedWith(af));
    assertEquals(502, e.status());
    assertEquals(
        "trying the adapter of finetune-a failed: maxNewTokens 900 is outside [1, 512]",
        e.getMessage());
    assertFalse(e.getMessage().contains("\tat "), e.getMessage());
  }

  @Test
  void anOldGpuWorkerThatCannotGenerateIsA503() {
    ApplicationFailure af =
        ApplicationFailure.newNonRetryableFailure(
            "this GPU worker cannot generate; update it", "Unsupported");
    UpstreamException e = AdapterTrials.failed("finetune-a", failedWith(af));
    assertEquals(503, e.status());
    assertEquals(
        "the GPU worker cannot generate: this GPU worker cannot generate; update it",
        e.getMessage());
  }
}
