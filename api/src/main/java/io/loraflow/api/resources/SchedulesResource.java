package io.loraflow.api.resources;

import io.loraflow.api.api.ScheduleList;
import io.loraflow.api.api.ScheduleSummary;
import io.loraflow.api.auth.RequiresScope;
import io.loraflow.api.auth.Scope;
import io.loraflow.api.core.ScheduleService;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * Retrain schedules: list, look at, pause, resume, delete (create/update: POST /v1/retrain). Thin:
 * the work is in {@link ScheduleService}.
 */
@Path("/v1/schedules")
@Produces(MediaType.APPLICATION_JSON)
public final class SchedulesResource {

  static final String ID_MESSAGE = "must be a schedule id (1-64 of A-Z a-z 0-9 . _ -)";

  private final ScheduleService schedules;

  public SchedulesResource(ScheduleService schedules) {
    this.schedules = schedules;
  }

  @GET
  @RequiresScope(Scope.READ)
  public ScheduleList list(@QueryParam("limit") @DefaultValue("50") @Min(1) @Max(100) int limit) {
    return schedules.list(limit);
  }

  @GET
  @Path("{id}")
  @RequiresScope(Scope.READ)
  public ScheduleSummary get(
      @PathParam("id") @Pattern(regexp = ScheduleService.ID_PATTERN, message = ID_MESSAGE)
          String id) {
    return schedules.get(id);
  }

  @POST
  @Path("{id}/pause")
  @RequiresScope(Scope.WRITE)
  public ScheduleSummary pause(
      @PathParam("id") @Pattern(regexp = ScheduleService.ID_PATTERN, message = ID_MESSAGE)
          String id,
      @QueryParam("note") @Size(max = 200, message = "must be at most 200 characters")
          String note) {
    return schedules.pause(id, note);
  }

  @POST
  @Path("{id}/resume")
  @RequiresScope(Scope.WRITE)
  public ScheduleSummary resume(
      @PathParam("id") @Pattern(regexp = ScheduleService.ID_PATTERN, message = ID_MESSAGE)
          String id,
      @QueryParam("note") @Size(max = 200, message = "must be at most 200 characters")
          String note) {
    return schedules.resume(id, note);
  }

  /** 204: deleted; runs it already started keep running. Needs the admin scope. */
  @DELETE
  @Path("{id}")
  @RequiresScope(Scope.ADMIN)
  public Response delete(
      @PathParam("id") @Pattern(regexp = ScheduleService.ID_PATTERN, message = ID_MESSAGE)
          String id) {
    schedules.delete(id);
    return Response.noContent().build();
  }
}
