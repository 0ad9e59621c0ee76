package io.loraflow.api.api;

import io.loraflow.workflows.SweepChild;
import io.loraflow.workflows.SweepResult;
import java.util.List;

/**
 * A sweep as the API shows it.
 *
 * @param sweepId the Sweep workflow id
 * @param status RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED or TIMED_OUT
 * @param children every child so far (from the workflow's query while running, from the result
 *     after); empty when no CPU worker answered the query
 * @param result the whole result once completed, else null
 * @param failure why it failed, else null
 * @param temporalUi the sweep in the Temporal UI (its children are linked from there)
 */
public record SweepView(
    String sweepId,
    String status,
    List<SweepChild> children,
    SweepResult result,
    RunView.Failure failure,
    String temporalUi) {

  public SweepView {
    children = children == null ? List.of() : List.copyOf(children);
  }
}
