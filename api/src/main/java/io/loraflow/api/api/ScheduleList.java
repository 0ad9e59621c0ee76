package io.loraflow.api.api;

import java.util.List;

/**
 * The schedules that start FineTune runs, by id.
 *
 * @param schedules at most {@code limit} schedules
 */
public record ScheduleList(List<ScheduleSummary> schedules) {}
