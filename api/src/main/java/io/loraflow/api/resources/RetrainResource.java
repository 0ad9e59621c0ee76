package io.loraflow.api.resources;

import io.loraflow.api.api.RetrainRequest;
import io.loraflow.api.api.RetrainResponse;
import io.loraflow.api.auth.ApiKeyFilter;
import io.loraflow.api.auth.RequiresScope;
import io.loraflow.api.auth.Scope;
import io.loraflow.api.core.AdmissionControl;
import io.loraflow.api.core.IdempotencyKeys;
import io.loraflow.api.core.Retrainer;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;

/** Retrain from an earlier run or registered adapter version; optionally on a schedule. */
@Path("/v1/retrain")
@RequiresScope(Scope.WRITE)
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public final class RetrainResource {

  private final Retrainer retrainer;
  private final AdmissionControl admission;

  public RetrainResource(Retrainer retrainer, AdmissionControl admission) {
    this.retrainer = retrainer;
    this.admission = admission;
  }

  /** 201 when a run was started or a schedule created, 200 when only existing things matched. */
  @POST
  public Response retrain(
      @NotNull(message = "request body must be a retrain request JSON object") @Valid
          RetrainRequest request,
      @HeaderParam(IdempotencyKeys.HEADER)
          @Pattern(regexp = IdempotencyKeys.PATTERN, message = "must be 1-64 of A-Z a-z 0-9 . _ -")
          String idempotencyKey,
      @Context ContainerRequestContext context) {
    String keyId = (String) context.getProperty(ApiKeyFilter.KEY_ID);
    RetrainResponse response =
        request.startsNow()
            ? admission.admit(
                keyId,
                () -> retrainer.retrain(request, idempotencyKey, keyId),
                r -> r.run() == null ? null : r.run().runId())
            : retrainer.retrain(request, idempotencyKey, keyId);
    boolean created =
        (response.run() != null && response.run().created())
            || (response.schedule() != null && response.schedule().created());
    Response.ResponseBuilder b =
        Response.status(created ? Response.Status.CREATED : Response.Status.OK).entity(response);
    if (response.run() != null) {
      b.location(URI.create("/v1/runs/" + response.run().runId()));
    }
    return b.build();
  }
}
