package io.loraflow.api.core;

import io.loraflow.api.api.ScheduleList;
import io.loraflow.api.api.ScheduleSummary;
import io.temporal.client.schedules.ScheduleActionResult;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleDescription;
import io.temporal.client.schedules.ScheduleException;
import io.temporal.client.schedules.ScheduleHandle;
import io.temporal.client.schedules.ScheduleIntervalSpec;
import io.temporal.client.schedules.ScheduleListActionStartWorkflow;
import io.temporal.client.schedules.ScheduleListDescription;
import io.temporal.client.schedules.ScheduleSpec;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;

/**
 * The retrain schedules (Temporal Schedules whose action starts a FineTune run): list, look at,
 * pause, resume, delete. Creating and updating them is {@link Retrainer}'s job.
 */
public final class ScheduleService {

  /** Schedule ids as {@link Retrainer} makes them. */
  public static final String ID_PATTERN = "[A-Za-z0-9._-]{1,64}";

  private static final String WORKFLOW_TYPE = "FineTune";

  private final ScheduleClient schedules;

  public ScheduleService(ScheduleClient schedules) {
    this.schedules = schedules;
  }

  /** FineTune schedules by id, at most {@code limit} (1-100). */
  public ScheduleList list(int limit) {
    if (limit < 1 || limit > 100) {
      throw new IllegalArgumentException("limit must be in [1, 100], got " + limit);
    }
    List<ScheduleSummary> out =
        schedules
            .listSchedules(100)
            .filter(ScheduleService::startsFineTune)
            .sorted(Comparator.comparing(ScheduleListDescription::getScheduleId))
            .limit(limit)
            .map(
                d ->
                    summary(
                        d.getScheduleId(),
                        d.getSchedule().getState().isPaused(),
                        d.getSchedule().getState().getNote(),
                        d.getSchedule().getSpec(),
                        d.getInfo().getNextActionTimes(),
                        d.getInfo().getRecentActions()))
            .toList();
    return new ScheduleList(out);
  }

  /**
   * @throws NotFoundException when there is no FineTune schedule {@code id}
   */
  public ScheduleSummary get(String id) {
    ScheduleDescription d = describe(id);
    return summary(
        d.getId(),
        d.getSchedule().getState().isPaused(),
        d.getSchedule().getState().getNote(),
        d.getSchedule().getSpec(),
        d.getInfo().getNextActionTimes(),
        d.getInfo().getRecentActions());
  }

  /** Pauses the schedule (idempotent); returns it as it is now. */
  public ScheduleSummary pause(String id, String note) {
    handle(id).pause(note == null || note.isBlank() ? "paused via loraflow" : note);
    return get(id);
  }

  /** Resumes the schedule (idempotent); returns it as it is now. */
  public ScheduleSummary resume(String id, String note) {
    handle(id).unpause(note == null || note.isBlank() ? "resumed via loraflow" : note);
    return get(id);
  }

  /** Deletes the schedule; runs it already started keep running. */
  public void delete(String id) {
    ScheduleHandle h = handle(id);
    try {
      h.delete();
    } catch (ScheduleException e) {
      throw notFound(id);
    }
  }

  private ScheduleHandle handle(String id) {
    describe(id); // 404 before acting, and only on FineTune schedules
    return schedules.getHandle(id);
  }

  private ScheduleDescription describe(String id) {
    if (id == null || !id.matches(ID_PATTERN)) {
      throw new IllegalArgumentException("schedule id must be 1-64 of A-Z a-z 0-9 . _ -");
    }
    ScheduleDescription d;
    try {
      d = schedules.getHandle(id).describe();
    } catch (ScheduleException e) {
      throw notFound(id);
    } catch (io.grpc.StatusRuntimeException e) {
      if (e.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND) {
        throw notFound(id);
      }
      throw e;
    }
    if (!(d.getSchedule().getAction() instanceof ScheduleActionStartWorkflow a)
        || !WORKFLOW_TYPE.equals(a.getWorkflowType())) {
      throw notFound(id);
    }
    return d;
  }

  private static NotFoundException notFound(String id) {
    return new NotFoundException("no retrain schedule '" + id + "'; list them: GET /v1/schedules");
  }

  private static boolean startsFineTune(ScheduleListDescription d) {
    return d.getSchedule().getAction() instanceof ScheduleListActionStartWorkflow a
        && WORKFLOW_TYPE.equals(a.getWorkflow());
  }

  /**
   * The schedule's cron expressions: those the server kept as text, then its calendars as cron text
   * (the server turns cron text into calendars, see {@link CronText}).
   */
  static List<String> cronOf(ScheduleSpec spec) {
    if (spec == null) {
      return List.of();
    }
    List<String> cron = new java.util.ArrayList<>();
    if (spec.getCronExpressions() != null) {
      cron.addAll(spec.getCronExpressions());
    }
    if (spec.getCalendars() != null) {
      spec.getCalendars().forEach(c -> cron.add(CronText.of(c)));
    }
    return List.copyOf(cron);
  }

  private static ScheduleSummary summary(
      String id,
      boolean paused,
      String note,
      ScheduleSpec spec,
      List<Instant> next,
      List<ScheduleActionResult> recent) {
    return new ScheduleSummary(
        id,
        paused,
        note == null || note.isEmpty() ? null : note,
        cronOf(spec),
        spec == null || spec.getIntervals() == null
            ? List.of()
            : spec.getIntervals().stream()
                .map(ScheduleIntervalSpec::getEvery)
                .map(d -> d.getSeconds() + "s")
                .toList(),
        next == null ? List.of() : next.stream().limit(3).map(Instant::toString).toList(),
        recent == null
            ? List.of()
            : recent.stream()
                .map(r -> r.getAction())
                .filter(
                    a ->
                        a
                            instanceof
                            io.temporal.client.schedules.ScheduleActionExecutionStartWorkflow)
                .map(
                    a ->
                        ((io.temporal.client.schedules.ScheduleActionExecutionStartWorkflow) a)
                            .getWorkflowId())
                .toList());
  }
}
