package io.loraflow.workflows.admission;

import io.loraflow.workflows.ActivityPolicies;
import io.loraflow.workflows.TaskQueues;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;

/**
 * The gate (see {@link AdmissionGateWorkflow}): signal handlers only change the {@link
 * AdmissionQueue} and note whom to tell; the main loop tells them (one external signal each),
 * checks holders while someone waits, and continues as new when the history is long.
 */
public class AdmissionGateWorkflowImpl implements AdmissionGateWorkflow {

  private static final Logger log = Workflow.getLogger(AdmissionGateWorkflowImpl.class);

  private final AdmissionActivities server =
      Workflow.newActivityStub(
          AdmissionActivities.class,
          ActivityPolicies.prioritized(
              ActivityOptions.newBuilder()
                  .setTaskQueue(TaskQueues.CPU)
                  .setStartToCloseTimeout(Duration.ofSeconds(30))
                  .setScheduleToCloseTimeout(Duration.ofMinutes(2))
                  .setRetryOptions(
                      RetryOptions.newBuilder()
                          .setInitialInterval(Duration.ofSeconds(1))
                          .setMaximumInterval(Duration.ofSeconds(10))
                          .build())
                  .build(),
              ActivityPolicies.PRIORITY_FINISH));

  private AdmissionConfig config;
  private AdmissionQueue queue;
  private long generation;

  /** Granted runs not yet told, in grant order. */
  private final Deque<String> grants = new ArrayDeque<>();

  /** Refused runs not yet told, with why. */
  private final Deque<String[]> refusals = new ArrayDeque<>();

  /** Signals that arrived before {@link #run} set up the queue (signal-with-start), in order. */
  private final List<Runnable> early = new ArrayList<>();

  @Override
  public void run(GateState state) {
    GateState s = state == null ? GateState.empty(AdmissionConfig.DEFAULT) : state;
    config = s.config();
    queue = AdmissionQueue.from(s.queue());
    generation = s.generation();
    grants.addAll(s.undelivered());
    grants.addAll(queue.setCapacity(config.slots()));
    early.forEach(Runnable::run);
    early.clear();
    log.info(
        "admission gate generation {}: {} slots, {} holders, {} waiting",
        generation,
        queue.capacity(),
        queue.holders().size(),
        queue.waitingCount());

    long nextCheck = Workflow.currentTimeMillis() + config.holderCheckEvery().toMillis();
    while (true) {
      deliver();
      if (historyFull()) {
        if (grants.isEmpty() && refusals.isEmpty()) {
          Workflow.continueAsNew(
              new GateState(config, queue.snapshot(), List.of(), generation + 1));
        }
        continue;
      }
      if (queue.anyoneWaiting()) {
        // a holder that closed without releasing blocks the waiting runs: look for one now and then
        long wait = nextCheck - Workflow.currentTimeMillis();
        if (wait <= 0) {
          reclaimClosedHolders();
          nextCheck = Workflow.currentTimeMillis() + config.holderCheckEvery().toMillis();
          continue;
        }
        Workflow.await(Duration.ofMillis(wait), () -> hasNews() || historyFull());
      } else {
        Workflow.await(() -> hasNews() || historyFull() || queue.anyoneWaiting());
        nextCheck = Workflow.currentTimeMillis() + config.holderCheckEvery().toMillis();
      }
    }
  }

  private boolean hasNews() {
    return !grants.isEmpty() || !refusals.isEmpty();
  }

  private boolean historyFull() {
    return Workflow.getInfo().getHistoryLength() >= config.continueAsNewAfterEvents()
        || Workflow.getInfo().isContinueAsNewSuggested();
  }

  /** Tells granted and refused runs; a run that cannot be told is gone and frees its slot. */
  private void deliver() {
    while (!grants.isEmpty()) {
      String id = grants.pollFirst();
      if (queue.position(id) != 0) {
        continue; // released before it was told
      }
      if (!ExternalSignals.signalIfPresent(id, Admission.SIGNAL, Admission.grant())) {
        log.info("admission gate: {} is gone; its slot is free again", id);
        grants.addAll(queue.release(id));
      }
    }
    while (!refusals.isEmpty()) {
      String[] refusal = refusals.pollFirst();
      ExternalSignals.signalIfPresent( // gone: nobody to tell
          refusal[0], Admission.SIGNAL, new Admission(false, refusal[1]));
    }
  }

  private void reclaimClosedHolders() {
    List<String> holders = queue.holders();
    if (holders.isEmpty()) {
      return;
    }
    List<String> closed;
    try {
      closed = server.closedOf(holders);
    } catch (ActivityFailure e) {
      log.warn("admission gate: could not check holders {}; trying again later", holders, e);
      return;
    }
    for (String id : closed) {
      log.info("admission gate: holder {} closed without releasing; its slot is free again", id);
      grants.addAll(queue.release(id));
    }
  }

  @Override
  public void request(AdmissionRequest r) {
    if (queue == null) {
      early.add(() -> request(r));
      return;
    }
    if (r == null || r.workflowId() == null || r.workflowId().isBlank()) {
      return;
    }
    if (r.config() != null && !r.config().equals(config)) {
      config = r.config(); // the newest worker's settings win
      grants.addAll(queue.setCapacity(config.slots()));
    }
    if (!queue.knows(r.workflowId()) && queue.waitingCount() >= config.maxWaiting()) {
      refusals.add(
          new String[] {
            r.workflowId(),
            queue.waitingCount()
                + " runs are already waiting for a slot, the most the gate accepts ("
                + AdmissionConfig.MAX_WAITING
                + "="
                + config.maxWaiting()
                + "); start the run again later or raise the limit"
          });
      return;
    }
    grants.addAll(queue.request(r.workflowId(), r.submittedAtMillis()));
  }

  @Override
  public void release(String workflowId) {
    if (queue == null) {
      early.add(() -> release(workflowId));
      return;
    }
    if (workflowId != null) {
      grants.addAll(queue.release(workflowId));
    }
  }

  @Override
  public QueuePosition position(String workflowId) {
    if (queue == null) {
      return new QueuePosition(-1, 0, 0, 0);
    }
    return new QueuePosition(
        queue.position(workflowId), queue.waitingCount(), queue.holders().size(), queue.capacity());
  }

  @Override
  public GateState status() {
    if (queue == null) {
      return GateState.empty(AdmissionConfig.DEFAULT);
    }
    return new GateState(config, queue.snapshot(), List.copyOf(grants), generation);
  }
}
