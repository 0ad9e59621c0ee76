package io.loraflow.gpu;

import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.Progress;
import io.temporal.client.WorkflowClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends {@link Progress} to the activity's own workflow as a {@code reportProgress} signal, at most
 * once per {@value FineTuneWorkflow#PROGRESS_SIGNAL_MIN_INTERVAL_SECONDS} s unless forced (phase
 * boundaries). Best effort: a failed signal is logged and dropped.
 */
final class ProgressReporter {
  private static final Logger log = LoggerFactory.getLogger(ProgressReporter.class);
  private static final long MIN_INTERVAL_NANOS =
      FineTuneWorkflow.PROGRESS_SIGNAL_MIN_INTERVAL_SECONDS * 1_000_000_000L;

  private final WorkflowClient client;
  private final String workflowId;
  private long lastSent = Long.MIN_VALUE / 2;

  ProgressReporter(WorkflowClient client, String workflowId) {
    this.client = client;
    this.workflowId = workflowId;
  }

  void report(Progress p, boolean force) {
    long now = System.nanoTime();
    if (!force && now - lastSent < MIN_INTERVAL_NANOS) {
      return;
    }
    lastSent = now;
    try {
      client.newWorkflowStub(FineTuneWorkflow.class, workflowId).reportProgress(p);
    } catch (RuntimeException e) {
      log.debug("progress signal to {} dropped: {}", workflowId, e.toString());
    }
  }
}
