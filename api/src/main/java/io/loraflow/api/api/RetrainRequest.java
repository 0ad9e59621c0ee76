package io.loraflow.api.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Pattern;

/**
 * Retrain: a new run from the spec of an earlier one, with a new dataset and/or overrides, now
 * and/or on a schedule.
 *
 * @param fromRun the run id (workflow id) whose spec to start from
 * @param fromModelVersion a registered adapter version instead: {@code models:/<name>/<version>},
 *     {@code models:/<name>@<alias>}, {@code <name>/<version>} or {@code <name>@<alias>}; its run
 *     (tag {@code loraflow.workflow_id}) gives the spec
 * @param dataset the new dataset URI; null keeps the source run's dataset
 * @param overrides JSON merged into the source spec field by field, e.g. {@code {"training":
 *     {"epochs": 5}}}; null values remove a field (back to its default)
 * @param runName readable name of the new run (its id becomes {@code finetune-<runName>})
 * @param schedule when set, also creates (or updates) a Temporal Schedule that starts this spec
 * @param runNow start a run now as well (default true; false with a schedule = schedule only)
 */
public record RetrainRequest(
    String fromRun,
    String fromModelVersion,
    String dataset,
    ObjectNode overrides,
    String runName,
    @Valid ScheduleRequest schedule,
    Boolean runNow) {

  /** Exactly one source. */
  @JsonIgnore
  @AssertTrue(message = "give exactly one of fromRun or fromModelVersion")
  public boolean isOneSource() {
    return (fromRun == null) != (fromModelVersion == null);
  }

  /** Something to do. */
  @JsonIgnore
  @AssertTrue(message = "runNow=false needs a schedule, otherwise nothing would happen")
  public boolean isSomethingToDo() {
    return runNow == null || runNow || schedule != null;
  }

  public boolean startsNow() {
    return runNow == null || runNow;
  }

  /**
   * A Temporal Schedule that starts the retrain spec. Give cron expressions and/or intervals.
   *
   * @param id schedule id (default {@code retrain-<source>}); an existing schedule with this id is
   *     updated
   * @param cron cron expressions, e.g. {@code "0 3 * * *"} (03:00 UTC daily)
   * @param every intervals, e.g. {@code "24h"}, {@code "90m"}, {@code "7d"}
   */
  public record ScheduleRequest(
      @Pattern(regexp = "[A-Za-z0-9._-]{1,64}", message = "must be 1-64 of A-Z a-z 0-9 . _ -")
          String id,
      java.util.List<
              @jakarta.validation.constraints.NotNull(
                  message = "must be a cron expression, not null")
              String>
          cron,
      java.util.List<
              @Pattern(
                  regexp = "[1-9][0-9]{0,5}[smhd]",
                  message = "must be a number and a unit s, m, h or d, e.g. 24h")
              String>
          every) {

    @JsonIgnore
    @AssertTrue(message = "give at least one cron expression or interval")
    public boolean isTimed() {
      return (cron != null && !cron.isEmpty()) || (every != null && !every.isEmpty());
    }
  }
}
