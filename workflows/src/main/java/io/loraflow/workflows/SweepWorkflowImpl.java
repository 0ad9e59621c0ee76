package io.loraflow.workflows;

import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;

/**
 * The Sweep (see {@link SweepWorkflow}). Deterministic orchestration only: children are started in
 * grid order as slots free up, their outcomes recorded as they end.
 */
public class SweepWorkflowImpl implements SweepWorkflow {

  private static final Logger log = Workflow.getLogger(SweepWorkflowImpl.class);

  private final CpuActivities cpu =
      Workflow.newActivityStub(CpuActivities.class, ActivityPolicies.cpu());
  private final CpuActivities cpuCleanup =
      Workflow.newActivityStub(CpuActivities.class, ActivityPolicies.cpuCleanup());

  /** Query state: one entry per child, updated as each starts and ends. */
  private final List<SweepChild> children = new ArrayList<>();

  @Override
  public SweepResult run(SweepSpec spec) {
    if (spec == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "a sweep needs a spec: {\"base\": {run spec}, \"grid\": {...}}",
          FailureTypes.INVALID_RUN_SPEC);
    }
    List<String> problems = spec.problems();
    if (!problems.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "invalid sweep spec: " + String.join("; ", problems), FailureTypes.INVALID_RUN_SPEC);
    }
    String sweepId = Workflow.getInfo().getWorkflowId();
    RunSpec base = spec.base();
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put("loraflow.workflow_id", sweepId);
    tags.put("loraflow.sweep", "parent");
    tags.put("loraflow.base_model", base.baseModel());
    tags.put("loraflow.dataset", base.dataset());
    // the children's experiment (one per base model): MLflow nests runs only within one experiment
    TrackingRun parent =
        cpu.openTrackingRun(
            new TrackingStart(sweepId, base.experimentName(), spec.toParams(), tags));

    List<RunSpec> specs = spec.children(sweepId, parent.mlflowRunId());
    int n = specs.size();
    for (int i = 0; i < n; i++) {
      children.add(child(i, sweepId, specs.get(i), "PENDING", null, null));
    }
    FineTuneResult[] results = new FineTuneResult[n];
    Map<Integer, Promise<FineTuneResult>> running = new LinkedHashMap<>();
    int next = 0;
    while (next < n || !running.isEmpty()) {
      while (next < n && running.size() < spec.maxConcurrent()) {
        FineTuneWorkflow stub =
            Workflow.newChildWorkflowStub(
                FineTuneWorkflow.class, childOptions(childId(sweepId, next), spec));
        running.put(next, Async.function(stub::run, specs.get(next)));
        children.set(next, child(next, sweepId, specs.get(next), "RUNNING", null, null));
        next++;
      }
      try {
        Promise.anyOf(running.values()).get();
      } catch (TemporalFailure failedFirst) {
        // one child failed: recorded below with the others that ended
      }
      for (var it = running.entrySet().iterator(); it.hasNext(); ) {
        var e = it.next();
        if (!e.getValue().isCompleted()) {
          continue;
        }
        int i = e.getKey();
        it.remove();
        try {
          results[i] = e.getValue().get();
          children.set(i, child(i, sweepId, specs.get(i), "COMPLETED", null, results[i]));
        } catch (TemporalFailure failure) {
          String why = rootMessage(failure);
          log.warn("sweep {}: child {} failed: {}", sweepId, childId(sweepId, i), why);
          children.set(i, child(i, sweepId, specs.get(i), "FAILED", why, null));
        }
      }
    }

    int best = bestIndex(children);
    if (best < 0) {
      String message = "every child of sweep " + sweepId + " failed: " + failures(children);
      closeParent(parent, "FAILED", summary(-1), Map.of("loraflow.failure", cap(message)));
      throw ApplicationFailure.newNonRetryableFailure(message, ALL_CHILDREN_FAILED);
    }
    FineTuneResult winner = results[best];
    RegistrationResult registration = null;
    Map<String, String> finalTags = new LinkedHashMap<>();
    finalTags.put("loraflow.best_child", children.get(best).workflowId());
    if (base.registry().register()) {
      registration =
          cpu.registerAdapter(
              new RegistrationRequest(
                  base.registeredModelName(),
                  base.registry().promote(),
                  sweepId,
                  winner.train().mlflowRunId(),
                  base.baseModel(),
                  winner.dataset().sha256(),
                  winner.train().adapterKey(),
                  winner.eval()));
      finalTags.put("loraflow.registered_model", registration.modelName());
      finalTags.put("loraflow.registered_version", registration.version());
    }
    closeParent(parent, "FINISHED", summary(best), finalTags);
    return new SweepResult(
        sweepId, parent.mlflowRunId(), List.copyOf(children), best, winner, registration);
  }

  @Override
  public List<SweepChild> children() {
    return List.copyOf(children);
  }

  static String childId(String sweepId, int index) {
    return sweepId + "-c" + index;
  }

  private static ChildWorkflowOptions childOptions(String workflowId, SweepSpec spec) {
    return ChildWorkflowOptions.newBuilder()
        .setWorkflowId(workflowId)
        .setTaskQueue(TaskQueues.CPU)
        // a cancelled sweep asks its children to stop (they checkpoint and close their MLflow runs)
        .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL)
        .setRetryOptions(
            RetryOptions.newBuilder()
                .setMaximumAttempts(spec.childAttempts())
                .setInitialInterval(Duration.ofSeconds(10))
                .setDoNotRetry(FailureTypes.NON_RETRYABLE.toArray(String[]::new))
                .build())
        .build();
  }

  /** The completed child with the lowest adapter eval loss (ties: the first), or -1. */
  static int bestIndex(List<SweepChild> children) {
    int best = -1;
    for (SweepChild c : children) {
      if (!c.completed() || c.adapterEvalLoss() == null || c.adapterEvalLoss().isNaN()) {
        continue;
      }
      if (best < 0 || c.adapterEvalLoss() < children.get(best).adapterEvalLoss()) {
        best = c.index();
      }
    }
    return best;
  }

  private static SweepChild child(
      int i, String sweepId, RunSpec spec, String status, String failure, FineTuneResult r) {
    TrainingSpec t = spec.training();
    return new SweepChild(
        i,
        childId(sweepId, i),
        t.loraR(),
        t.loraAlpha(),
        t.learningRate(),
        t.epochs(),
        status,
        failure,
        r == null || r.eval() == null ? null : r.eval().adapterEvalLoss(),
        r == null || r.eval() == null || r.eval().adapter() == null
            ? null
            : r.eval().adapter().rougeL(),
        r == null || r.train() == null ? null : r.train().mlflowRunId());
  }

  private Map<String, Double> summary(int best) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("children", (double) children.size());
    m.put("children_completed", (double) children.stream().filter(SweepChild::completed).count());
    m.put(
        "children_failed",
        (double) children.stream().filter(c -> "FAILED".equals(c.status())).count());
    if (best >= 0) {
      SweepChild b = children.get(best);
      m.put("best_index", (double) best);
      m.put("best_eval_loss_adapter", b.adapterEvalLoss());
      if (b.rougeL() != null) {
        m.put("best_rougeL_adapter", b.rougeL());
      }
    }
    return m;
  }

  private void closeParent(
      TrackingRun parent, String status, Map<String, Double> metrics, Map<String, String> tags) {
    (status.equals("FINISHED") ? cpu : cpuCleanup)
        .closeTrackingRun(new TrackingFinish(parent.mlflowRunId(), status, metrics, tags));
  }

  private static String failures(List<SweepChild> children) {
    StringBuilder b = new StringBuilder();
    for (SweepChild c : children) {
      if (c.failure() != null) {
        b.append(b.length() == 0 ? "" : "; ")
            .append(c.workflowId())
            .append(": ")
            .append(c.failure());
      }
    }
    return b.toString();
  }

  private static String rootMessage(Throwable e) {
    String message = e.getMessage();
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ApplicationFailure app) {
        message = app.getType() + ": " + app.getOriginalMessage();
      }
    }
    return cap(message == null ? e.getClass().getSimpleName() : message);
  }

  private static String cap(String s) {
    return s.length() <= 500 ? s : s.substring(0, 497) + "...";
  }
}
