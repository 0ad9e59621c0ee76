package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The input of a {@code Sweep}: plain JSON, startable from the Temporal UI, e.g.
 *
 * <pre>{"base": {"dataset": "builtin:ecommerce-faq", "baseModel": "smollm2-135m-instruct"},
 *  "grid": {"loraR": [8, 16], "learningRate": [2e-4, 1e-3]}, "maxConcurrent": 2}</pre>
 *
 * @param base the run spec every child starts from (its runName is ignored: children are named
 *     {@code <sweep id>-c<i>}); its registry settings name the model the best child registers to
 * @param grid the values to try, see {@link SweepGrid}
 * @param maxConcurrent most children running at once (default 2, in [1, 16]), so a sweep cannot
 *     flood the GPU queue
 * @param childAttempts attempts per child workflow (default 2): a child that fails for a reason
 *     that may pass (not bad input) is started once more; its activities retry as in any run
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SweepSpec(
    RunSpec base, SweepGrid grid, Integer maxConcurrent, Integer childAttempts) {

  /** Most children of one sweep: what the grid's per-list bounds allow. */
  public static final int MAX_CHILDREN = SweepGrid.MAX_COMBINATIONS;

  public SweepSpec {
    grid = grid == null ? new SweepGrid(null, null, null, null) : grid;
    maxConcurrent = maxConcurrent == null ? 2 : maxConcurrent;
    childAttempts = childAttempts == null ? 2 : childAttempts;
  }

  /** Every problem, each naming the field and the bad value; empty when valid. */
  public List<String> problems() {
    List<String> p = new ArrayList<>();
    if (base == null) {
      p.add("base is required: the run spec every child starts from");
      return p;
    }
    p.addAll(grid.problems());
    TrainingSpec.range(p, "maxConcurrent", maxConcurrent, 1, 16);
    TrainingSpec.range(p, "childAttempts", childAttempts, 1, 10);
    if (!grid.problems().isEmpty()) {
      return p;
    }
    for (String problem : base.problems()) {
      p.add("base." + problem);
    }
    // grid.size() is 1..MAX_CHILDREN here: each list is within its bound (grid.problems())
    // each combination must be a valid run (e.g. loraR within range), reported once per value
    java.util.Set<String> seen = new java.util.LinkedHashSet<>();
    for (TrainingSpec t : grid.apply(base.training())) {
      for (String problem : t.problems()) {
        seen.add("grid: " + problem);
      }
    }
    p.addAll(seen);
    return p;
  }

  /**
   * The children's run specs, in grid order: the base with each combination, no run name, not
   * registering (the sweep registers the best), tagged with the sweep and the MLflow parent run.
   */
  public List<RunSpec> children(String sweepId, String parentMlflowRunId) {
    List<RunSpec> out = new ArrayList<>();
    RegistrySpec registry =
        new RegistrySpec(base.registry().modelName(), base.registry().promote(), false);
    for (TrainingSpec t : grid.apply(base.training())) {
      Map<String, String> tags = new LinkedHashMap<>(base.tags());
      tags.put("sweep.id", sweepId);
      if (parentMlflowRunId != null) {
        tags.put("mlflow.parentRunId", parentMlflowRunId);
      }
      out.add(
          new RunSpec(
              null,
              base.dataset(),
              base.datasetFormat(),
              base.baseModel(),
              base.template(),
              t,
              base.evalFraction(),
              base.evaluation(),
              registry,
              tags));
    }
    return out;
  }

  /** Flat MLflow params of the sweep's parent run. */
  public Map<String, String> toParams() {
    Map<String, String> m = new LinkedHashMap<>(base.toParams());
    m.put("grid_lora_r", grid.loraR().toString());
    m.put("grid_lora_alpha", grid.loraAlpha().toString());
    m.put("grid_learning_rate", grid.learningRate().toString());
    m.put("grid_epochs", grid.epochs().toString());
    m.put("grid_size", Long.toString(grid.size()));
    m.put("max_concurrent", Integer.toString(maxConcurrent));
    return m;
  }
}
