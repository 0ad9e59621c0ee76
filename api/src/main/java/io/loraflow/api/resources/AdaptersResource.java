package io.loraflow.api.resources;

import io.loraflow.api.api.AdapterList;
import io.loraflow.api.api.RegisteredAdapter;
import io.loraflow.api.api.TryAdapterRequest;
import io.loraflow.api.api.TryAdapterResponse;
import io.loraflow.api.auth.RequiresScope;
import io.loraflow.api.auth.Scope;
import io.loraflow.api.core.AdapterCatalog;
import io.loraflow.api.core.AdapterTrials;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

/** Registered adapters (MLflow model registry). Thin: the work is in {@link AdapterCatalog}. */
@Path("/v1/adapters")
@Produces(MediaType.APPLICATION_JSON)
@RequiresScope(Scope.READ)
public final class AdaptersResource {

  static final String NAME_MESSAGE =
      "must be 1-128 of A-Z a-z 0-9 . _ -, starting with a letter or digit";

  private final AdapterCatalog adapters;
  private final AdapterTrials trials;

  public AdaptersResource(AdapterCatalog adapters, AdapterTrials trials) {
    this.adapters = adapters;
    this.trials = trials;
  }

  /**
   * The adapter answers one prompt (generation on the GPU queue, as a TryAdapter workflow). Needs
   * write: it uses a GPU.
   */
  @POST
  @Path("try")
  @Consumes(MediaType.APPLICATION_JSON)
  @RequiresScope(Scope.WRITE)
  public TryAdapterResponse tryAdapter(
      @NotNull(message = "request body must be a try request JSON object")
          TryAdapterRequest request) {
    return trials.tryAdapter(request);
  }

  @GET
  public AdapterList list(
      @QueryParam("prefix")
          @DefaultValue("loraflow-")
          @Pattern(regexp = "|" + AdapterCatalog.NAME_PATTERN, message = NAME_MESSAGE)
          String prefix,
      @QueryParam("limit") @DefaultValue("50") @Min(1) @Max(100) int limit,
      @QueryParam("versions") @DefaultValue("10") @Min(0) @Max(100) int versions) {
    return adapters.list(prefix, limit, versions);
  }

  @GET
  @Path("{name}")
  public RegisteredAdapter get(
      @PathParam("name") @Pattern(regexp = AdapterCatalog.NAME_PATTERN, message = NAME_MESSAGE)
          String name,
      @QueryParam("versions") @DefaultValue("20") @Min(0) @Max(100) int versions) {
    return adapters.get(name, versions);
  }
}
