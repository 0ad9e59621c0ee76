package io.loraflow.api.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.loraflow.workflows.RunSpec;
import java.util.List;

/**
 * What a retrain did.
 *
 * @param spec the resolved spec of the new run(s)
 * @param sourceRun the run the spec came from
 * @param run the run started now (null with runNow=false)
 * @param schedule the schedule created or updated (null without one)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RetrainResponse(
    RunSpec spec, String sourceRun, RunAccepted run, ScheduleView schedule) {

  /**
   * A Temporal Schedule of retrain runs.
   *
   * @param scheduleId the schedule id (Temporal UI: Schedules)
   * @param created false when an existing schedule was updated
   * @param nextRuns the next start times, ISO-8601 UTC
   * @param workflowIdPrefix scheduled runs get this id plus a timestamp
   */
  public record ScheduleView(
      String scheduleId, boolean created, List<String> nextRuns, String workflowIdPrefix) {}
}
