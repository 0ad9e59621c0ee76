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
import java.util.List;

/** Hyper-parameter sweeps: start one, look at it. Thin: the work is in {@link SweepService}. */
@Path("/v1/sweeps")
@io.loraflow.api.auth.RequiresScope(io.loraflow.api.auth.Scope.READ)
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public final class SweepsResource {

  private final SweepService sweeps;
  private final io.loraflow.api.core.AdmissionControl admission;

  public SweepsResource(SweepService sweeps, io.loraflow.api.core.AdmissionControl admission) {
    this.sweeps = sweeps;
    this.admission = admission;
  }

  /**
   * 201 with the sweep id; 400 listing every problem of the spec; 409 when the id is taken; 429
   * with Retry-After when its children ({@code min(maxConcurrent, grid size)} runs at once) would
   * exceed the key's or the service's limit of active or queued runs.
   */
  @POST
  @io.loraflow.api.auth.RequiresScope(io.loraflow.api.auth.Scope.WRITE)
  public Response start(
      @NotNull(
              message =
                  "request body must be a sweep spec JSON object: {\"base\": ..., \"grid\": ...}")
          SweepSpec spec,
      @jakarta.ws.rs.core.Context jakarta.ws.rs.container.ContainerRequestContext request) {
    String keyId = (String) request.getProperty(io.loraflow.api.auth.ApiKeyFilter.KEY_ID);
    List<String> problems = spec.problems();
    if (!problems.isEmpty()) {
      // a bad spec is 400 whatever the load: it is checked before its size is counted
      throw new io.loraflow.api.core.InvalidRunSpecException(problems);
    }
    SweepAccepted accepted =
        admission.admit(
            keyId,
            io.loraflow.api.core.AdmissionControl.sweepSlots(spec),
            () -> sweeps.start(spec, keyId),
            SweepAccepted::sweepId);
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
