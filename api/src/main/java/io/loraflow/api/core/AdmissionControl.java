package io.loraflow.api.core;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionMetadata;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Admission control for new runs: at most {@link LimitSettings#runsPerKey()} active or queued runs
 * per API key and {@link LimitSettings#runsTotal()} in the namespace. "Active or queued" = FineTune
 * workflows still RUNNING (a queued run is one waiting for a worker). The count comes from Temporal
 * visibility (so it survives restarts and is shared by every API instance; the key is in each run's
 * memo {@value RunService#MEMO_KEY_ID}), plus the runs this instance admitted in the last {@link
 * #VISIBILITY_LAG} that visibility may not show yet. Admissions are serialized in one instance.
 * Runs started by a retrain schedule count too: in the total, and against the key that created or
 * last updated the schedule (the schedule's action carries that key in the memo). Temporal starts
 * them without asking, so a schedule firing at the limit is not refused; the next API start is.
 */
public final class AdmissionControl {

  /** How long a run just started may be missing from visibility. */
  static final Duration VISIBILITY_LAG = Duration.ofSeconds(15);

  private static final String RUNNING = "WorkflowType = 'FineTune' AND ExecutionStatus = 'Running'";

  private final WorkflowClient client;
  private final LimitSettings limits;
  private final Clock clock;

  /** workflow id -> (key id, admitted at), newest last. */
  private final LinkedHashMap<String, Map.Entry<String, Instant>> recent = new LinkedHashMap<>();

  private volatile boolean visibilityQueries = true;

  public AdmissionControl(WorkflowClient client, LimitSettings limits, Clock clock) {
    this.client = client;
    this.limits = limits;
    this.clock = clock;
  }

  /**
   * RUNNING FineTune workflows from visibility. A server whose visibility cannot run the query (the
   * SDK's in-memory test server) leaves only this instance's own recent admissions to count.
   */
  private List<WorkflowExecutionMetadata> visibleRunning() {
    if (!visibilityQueries) {
      return List.of();
    }
    try {
      return client.listExecutions(RUNNING).limit(limits.runsTotal() + 1L).toList();
    } catch (io.grpc.StatusRuntimeException e) {
      io.grpc.Status.Code code = e.getStatus().getCode();
      if (code == io.grpc.Status.Code.UNIMPLEMENTED
          || code == io.grpc.Status.Code.INVALID_ARGUMENT) {
        org.slf4j.LoggerFactory.getLogger(AdmissionControl.class)
            .warn(
                "Temporal visibility cannot list running runs ({}); admission control counts only"
                    + " the runs this API instance started in the last {}",
                code,
                VISIBILITY_LAG);
        visibilityQueries = false;
        return List.of();
      }
      throw e;
    }
  }

  /**
   * Starts a run through {@code start} if {@code keyId} is under both limits.
   *
   * @param start starts the run
   * @param runIdOf the workflow id of what {@code start} returned (null: no run was started)
   * @throws TooManyRunsException naming the limit that was reached
   */
  public synchronized <T> T admit(String keyId, Supplier<T> start, Function<T, String> runIdOf) {
    Instant now = clock.instant();
    for (Iterator<Map.Entry<String, Map.Entry<String, Instant>>> it = recent.entrySet().iterator();
        it.hasNext(); ) {
      if (it.next().getValue().getValue().isBefore(now.minus(VISIBILITY_LAG))) {
        it.remove();
      }
    }
    Map<String, String> running = new HashMap<>();
    List<WorkflowExecutionMetadata> visible = visibleRunning();
    for (WorkflowExecutionMetadata m : visible) {
      String owner;
      try {
        owner = (String) m.getMemo(RunService.MEMO_KEY_ID, String.class);
      } catch (RuntimeException e) {
        owner = null;
      }
      running.put(m.getExecution().getWorkflowId(), owner == null ? "" : owner);
    }
    recent.forEach((id, owner) -> running.putIfAbsent(id, owner.getKey()));
    long total = running.size();
    long mine = running.values().stream().filter(keyId::equals).count();
    if (mine >= limits.runsPerKey()) {
      throw new TooManyRunsException(
          "key '"
              + keyId
              + "' has "
              + mine
              + " active or queued runs; the limit per key is "
              + limits.runsPerKey()
              + ". Wait for one to finish (GET /v1/runs?status=RUNNING) or cancel one",
          limits.retryAfterSeconds());
    }
    if (total >= limits.runsTotal()) {
      throw new TooManyRunsException(
          "the service has "
              + total
              + " active or queued runs; the limit is "
              + limits.runsTotal()
              + ". Try again later",
          limits.retryAfterSeconds());
    }
    T started = start.get();
    String workflowId = runIdOf.apply(started);
    if (workflowId != null) {
      recent.put(workflowId, Map.entry(keyId, now));
    }
    return started;
  }
}
