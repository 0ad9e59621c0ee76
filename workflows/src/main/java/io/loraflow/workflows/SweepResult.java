package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/**
 * What a sweep produced.
 *
 * @param sweepId the sweep's workflow id
 * @param mlflowRunId the parent MLflow run (children are nested under it)
 * @param children every child, in grid order
 * @param bestIndex index of the child with the lowest adapter eval loss
 * @param best the best child's whole FineTune result
 * @param registration the version registered for the best child's adapter
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SweepResult(
    String sweepId,
    String mlflowRunId,
    List<SweepChild> children,
    int bestIndex,
    FineTuneResult best,
    RegistrationResult registration) {

  public SweepResult {
    children = children == null ? List.of() : List.copyOf(children);
  }
}
