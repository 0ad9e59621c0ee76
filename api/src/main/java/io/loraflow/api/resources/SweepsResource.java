package io.loraflow.api.resources;

import io.loraflow.api.api.SweepAccepted;
import io.loraflow.api.api.SweepView;
import io.loraflow.api.core.SweepService;
import io.loraflow.workflows.SweepSpec;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;

/** Hyper-parameter sweeps: start one, look at it. Thin: the work is in {@link SweepService}. */
@Path("/v1/sweeps")
@io.loraflow.api.auth.RequiresScope(io.loraflow.api.auth.Scope.READ)
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public final class SweepsResource {

  private final SweepService sweeps;

  public SweepsResource(SweepService sweeps) {
    this.sweeps = sweeps;
  }

  /** 201 with the sweep id; 400 listing every problem of the spec; 409 when the id is taken. */
  @POST
  @io.loraflow.api.auth.RequiresScope(io.loraflow.api.auth.Scope.WRITE)
  public Response start(
      @NotNull(
              message =
                  "request body must be a sweep spec JSON object: {\"base\": ..., \"grid\": ...}")
          SweepSpec spec) {
    SweepAccepted accepted = sweeps.start(spec);
    return Response.status(Response.Status.CREATED)
        .location(URI.create("/v1/sweeps/" + accepted.sweepId()))
        .entity(accepted)
        .build();
  }

  @GET
  @Path("{sweepId}")
  public SweepView get(
      @PathParam("sweepId")
          @Pattern(regexp = RunsResource.RUN_ID, message = RunsResource.RUN_ID_MESSAGE)
          String sweepId) {
    return sweeps.describe(sweepId);
  }
}
