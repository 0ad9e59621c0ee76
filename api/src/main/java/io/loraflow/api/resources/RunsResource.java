package io.loraflow.api.resources;

import io.loraflow.api.api.CancelAccepted;
import io.loraflow.api.api.CancelRequest;
import io.loraflow.api.api.RunAccepted;
import io.loraflow.api.api.RunList;
import io.loraflow.api.api.RunView;
import io.loraflow.api.api.ValidRunSpec;
import io.loraflow.api.auth.ApiKeyFilter;
import io.loraflow.api.auth.RequiresScope;
import io.loraflow.api.auth.Scope;
import io.loraflow.api.core.AdmissionControl;
import io.loraflow.api.core.IdempotencyKeys;
import io.loraflow.api.core.RunFilter;
import io.loraflow.api.core.RunService;
import io.loraflow.api.core.RunStatus;
import io.loraflow.workflows.RunSpec;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;

/** FineTune runs: start, look at, list, cancel. Thin: the work is in {@link RunService}. */
@Path("/v1/runs")
@RequiresScope(Scope.READ)
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public final class RunsResource {

  /** Workflow ids: readable ids, scheduled ids carry a timestamp with ':'. */
  static final String RUN_ID = "[A-Za-z0-9._:-]{1,255}";

  static final String RUN_ID_MESSAGE = "must be a run id (1-255 of A-Z a-z 0-9 . _ : -)";

  private final RunService runs;
  private final AdmissionControl admission;

  public RunsResource(RunService runs, AdmissionControl admission) {
    this.runs = runs;
    this.admission = admission;
  }

  /**
   * Starts a run: 201 with the new run, or 200 with the existing one when the {@value
   * IdempotencyKeys#HEADER} was seen before with the same spec.
   */
  @POST
  @RequiresScope(Scope.WRITE)
  public Response start(
      @NotNull(message = "request body must be a run spec JSON object") @ValidRunSpec RunSpec spec,
      @HeaderParam(IdempotencyKeys.HEADER)
          @Pattern(regexp = IdempotencyKeys.PATTERN, message = "must be 1-64 of A-Z a-z 0-9 . _ -")
          String idempotencyKey,
      @Context ContainerRequestContext request) {
    String keyId = (String) request.getProperty(ApiKeyFilter.KEY_ID);
    RunAccepted accepted =
        admission.admit(keyId, () -> runs.start(spec, idempotencyKey, keyId), RunAccepted::runId);
    return Response.status(accepted.created() ? Response.Status.CREATED : Response.Status.OK)
        .location(URI.create("/v1/runs/" + accepted.runId()))
        .entity(accepted)
        .build();
  }

  @GET
  @Path("{runId}")
  public RunView get(
      @PathParam("runId") @Pattern(regexp = RUN_ID, message = RUN_ID_MESSAGE) String runId) {
    return runs.describe(runId);
  }

  @GET
  public RunList list(
      @QueryParam("baseModel")
          @Pattern(
              regexp = RunFilter.VALUE_PATTERN,
              message = "must match " + RunFilter.VALUE_PATTERN)
          String baseModel,
      @QueryParam("dataset")
          @Pattern(
              regexp = RunFilter.VALUE_PATTERN,
              message = "must match " + RunFilter.VALUE_PATTERN)
          String dataset,
      @QueryParam("status")
          @Pattern(
              regexp = RunStatus.FILTER_PATTERN,
              message =
                  "must be one of RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT")
          String status,
      @QueryParam("limit") @DefaultValue("50") @Min(1) @Max(1000) int limit) {
    return runs.list(new RunFilter(baseModel, dataset, status, limit));
  }

  /** 202: the cancel signal was delivered; the run stops at its next heartbeat. */
  @POST
  @Path("{runId}/cancel")
  @RequiresScope(Scope.WRITE)
  public Response cancel(
      @PathParam("runId") @Pattern(regexp = RUN_ID, message = RUN_ID_MESSAGE) String runId,
      @Valid CancelRequest body) {
    String reason =
        body == null || body.reason() == null || body.reason().isBlank()
            ? "cancelled via API"
            : body.reason();
    runs.cancel(runId, reason);
    return Response.accepted(new CancelAccepted(runId, reason)).build();
  }
}
