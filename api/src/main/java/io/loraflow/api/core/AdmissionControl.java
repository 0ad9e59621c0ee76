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
 * Admission control for new runs and sweeps: at most {@link LimitSettings#runsPerKey()} active or
 * queued runs per API key and {@link LimitSettings#runsTotal()} in the namespace. "Active or
 * queued" = FineTune workflows still RUNNING (a queued run is one waiting for a worker), and for
 * every RUNNING Sweep the runs it may have going at once, {@code min(maxConcurrent, children)}
 * ({@link #sweepSlots}, kept in its memo {@value #MEMO_SLOTS}) or its running children when that is
 * more (a sweep started from the Temporal UI has no memo); a sweep's children count through their
 * sweep, not again. The count comes from Temporal visibility (so it survives restarts and is shared
 * by every API instance; the key is in each run's and sweep's memo {@value
 * RunService#MEMO_KEY_ID}), plus what this instance admitted in the last {@link #VISIBILITY_LAG}
 * that visibility may not show yet. Admissions are serialized in one instance. Runs started by a
 * retrain schedule count too: in the total, and against the key that created or last updated the
 * schedule (the schedule's action carries that key in the memo). Temporal starts them without
 * asking, so a schedule firing at the limit is not refused; the next API start is.
 */
public final class AdmissionControl {

  /** How long a run just started may be missing from visibility. */
  static final Duration VISIBILITY_LAG = Duration.ofSeconds(15);

  /** Memo key of a sweep's runs at once ({@link #sweepSlots}). */
  public static final String MEMO_SLOTS = "loraflowSweepSlots";

  private static final String RUNNING =
      "(WorkflowType = 'FineTune' OR WorkflowType = 'Sweep') AND ExecutionStatus = 'Running'";

  /** What one running workflow holds: its key ("" when unknown) and how many runs it counts as. */
  private record Holder(String keyId, int slots) {}

  private final WorkflowClient client;
  private final LimitSettings limits;
  private final Clock clock;

  /** workflow id -> (what it holds, admitted at), newest last. */
  private final LinkedHashMap<String, Map.Entry<Holder, Instant>> recent = new LinkedHashMap<>();

  private volatile boolean visibilityQueries = true;

  public AdmissionControl(WorkflowClient client, LimitSettings limits, Clock clock) {
    this.client = client;
    this.limits = limits;
    this.clock = clock;
  }

  /**
   * RUNNING FineTune and Sweep workflows from visibility (bounded: each one counts as at least one
   * run, or is a child of one that does). A server whose visibility cannot run the query (the SDK's
   * in-memory test server) leaves only this instance's own recent admissions to count.
   */
  private List<WorkflowExecutionMetadata> visibleRunning() {
    if (!visibilityQueries) {
      return List.of();
    }
    try {
      return client.listExecutions(RUNNING).limit(2L * limits.runsTotal() + 1L).toList();
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
   * The runs a sweep may have active or queued at once: {@code min(maxConcurrent, children)}, what
   * it counts as against the limits.
   */
  public static int sweepSlots(io.loraflow.workflows.SweepSpec spec) {
    return (int) Math.max(1, Math.min(spec.maxConcurrent(), spec.grid().size()));
  }

  /**
   * Starts a run through {@code start} if {@code keyId} is under both limits.
   *
   * @param start starts the run
   * @param runIdOf the workflow id of what {@code start} returned (null: no run was started)
   * @throws TooManyRunsException naming the limit that was reached
   */
  public <T> T admit(String keyId, Supplier<T> start, Function<T, String> runIdOf) {
    return admit(keyId, 1, start, runIdOf);
  }

  /**
   * Starts what counts as {@code slots} runs (1 for a run, {@link #sweepSlots} for a sweep) through
   * {@code start} if {@code keyId} stays within both limits with them.
   *
   * @throws TooManyRunsException naming the limit that would be exceeded
   */
  public synchronized <T> T admit(
      String keyId, int slots, Supplier<T> start, Function<T, String> runIdOf) {
    Instant now = clock.instant();
    for (Iterator<Map.Entry<String, Map.Entry<Holder, Instant>>> it = recent.entrySet().iterator();
        it.hasNext(); ) {
      if (it.next().getValue().getValue().isBefore(now.minus(VISIBILITY_LAG))) {
        it.remove();
      }
    }
    Map<String, Holder> running = holders(visibleRunning());
    recent.forEach((id, held) -> running.putIfAbsent(id, held.getKey()));
    long total = running.values().stream().mapToLong(Holder::slots).sum();
    long mine =
        running.values().stream()
            .filter(h -> keyId.equals(h.keyId()))
            .mapToLong(Holder::slots)
            .sum();
    String asking =
        slots == 1
            ? "one more run"
            : "a sweep that counts as " + slots + " runs (its maxConcurrent)";
    if (mine + slots > limits.runsPerKey()) {
      throw new TooManyRunsException(
          "key '"
              + keyId
              + "' has "
              + mine
              + " active or queued runs; the limit per key is "
              + limits.runsPerKey()
              + ", so "
              + asking
              + " does not fit. "
              + (slots > limits.runsPerKey()
                  ? "Lower the sweep's maxConcurrent to " + limits.runsPerKey() + " or less"
                  : "Wait for one to finish (GET /v1/runs?status=RUNNING) or cancel one"),
          limits.retryAfterSeconds());
    }
    if (total + slots > limits.runsTotal()) {
      throw new TooManyRunsException(
          "the service has "
              + total
              + " active or queued runs; the limit is "
              + limits.runsTotal()
              + ", so "
              + asking
              + " does not fit. Try again later",
          limits.retryAfterSeconds());
    }
    T started = start.get();
    String workflowId = runIdOf.apply(started);
    if (workflowId != null) {
      recent.put(workflowId, Map.entry(new Holder(keyId, slots), now));
    }
    return started;
  }

  /**
   * What each running workflow holds: a run 1, a sweep {@code max(memo slots, running children)}; a
   * sweep's children are folded into it (a child whose parent is not a visible sweep counts as a
   * run of its own).
   */
  private static Map<String, Holder> holders(List<WorkflowExecutionMetadata> visible) {
    Map<String, WorkflowExecutionMetadata> sweeps = new HashMap<>();
    for (WorkflowExecutionMetadata m : visible) {
      if (io.loraflow.workflows.SweepWorkflow.TYPE.equals(m.getWorkflowType())) {
        sweeps.put(m.getExecution().getWorkflowId(), m);
      }
    }
    Map<String, Integer> runningChildren = new HashMap<>();
    Map<String, Holder> out = new HashMap<>();
    for (WorkflowExecutionMetadata m : visible) {
      if (sweeps.containsKey(m.getExecution().getWorkflowId())) {
        continue;
      }
      var info = m.getWorkflowExecutionInfo();
      String parent = info.hasParentExecution() ? info.getParentExecution().getWorkflowId() : null;
      if (parent != null && sweeps.containsKey(parent)) {
        runningChildren.merge(parent, 1, Integer::sum);
      } else {
        out.put(m.getExecution().getWorkflowId(), new Holder(memo(m, RunService.MEMO_KEY_ID), 1));
      }
    }
    sweeps.forEach(
        (id, m) -> {
          int slots = 0;
          try {
            Integer memoSlots = (Integer) m.getMemo(MEMO_SLOTS, Integer.class);
            slots = memoSlots == null ? 0 : memoSlots;
          } catch (RuntimeException e) {
            slots = 0;
          }
          slots = Math.max(Math.max(1, slots), runningChildren.getOrDefault(id, 0));
          out.put(id, new Holder(memo(m, RunService.MEMO_KEY_ID), slots));
        });
    return out;
  }

  /** A string memo value, "" when absent or not a string. */
  private static String memo(WorkflowExecutionMetadata m, String key) {
    try {
      String v = (String) m.getMemo(key, String.class);
      return v == null ? "" : v;
    } catch (RuntimeException e) {
      return "";
    }
  }
}
