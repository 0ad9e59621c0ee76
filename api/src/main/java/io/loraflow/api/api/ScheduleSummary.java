package io.loraflow.api.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One Temporal Schedule of retrain runs.
 *
 * @param scheduleId the schedule id (Temporal UI: Schedules)
 * @param paused true while paused (no runs start)
 * @param note the reason given with the last pause or resume
 * @param cron cron expressions, UTC, as the server keeps them (its calendars written as cron text,
 *     see {@link io.loraflow.api.core.CronText})
 * @param every intervals, e.g. "86400s"
 * @param nextRuns the next start times, ISO-8601 UTC (empty while paused)
 * @param recentRuns run ids (workflow ids) of the latest starts, newest last
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ScheduleSummary(
    String scheduleId,
    boolean paused,
    String note,
    List<String> cron,
    List<String> every,
    List<String> nextRuns,
    List<String> recentRuns) {}
