package io.loraflow.api.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.RunLinks;

/**
 * One run as the API shows it.
 *
 * @param runId the workflow id
 * @param status RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT or CONTINUED_AS_NEW
 * @param phase the pipeline phase (from the progress query, or the LoraflowPhase search attribute
 *     once the run is closed)
 * @param startTime ISO-8601 UTC
 * @param closeTime ISO-8601 UTC, null while running
 * @param progress latest progress while running; null when closed or when no CPU worker answered
 *     the query in time (then {@code progressError} says why)
 * @param progressError why there is no progress although the run is running
 * @param result the pipeline's result, once COMPLETED
 * @param failure what went wrong, once FAILED/CANCELLED/TERMINATED/TIMED_OUT
 * @param links Temporal UI, MLflow run (once known) and MinIO console
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunView(
    String runId,
    String status,
    String phase,
    String startTime,
    String closeTime,
    Progress progress,
    String progressError,
    FineTuneResult result,
    Failure failure,
    RunLinks links) {

  /**
   * Why a run did not complete.
   *
   * @param type the ApplicationFailure type (e.g. InvalidDataset, Cancelled) or the Temporal
   *     failure kind
   * @param message what happened and, for bad input, how to fix it
   */
  public record Failure(String type, String message) {}
}
