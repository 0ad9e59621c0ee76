package io.loraflow.api.resources;

import io.loraflow.api.api.Comparison;
import io.loraflow.api.auth.RequiresScope;
import io.loraflow.api.auth.Scope;
import io.loraflow.api.core.RunComparer;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

/** Runs side by side from MLflow. Thin: the work is in {@link RunComparer}. */
@Path("/v1/compare")
@Produces(MediaType.APPLICATION_JSON)
@RequiresScope(Scope.READ)
public final class CompareResource {

  private final RunComparer comparer;

  public CompareResource(RunComparer comparer) {
    this.comparer = comparer;
  }

  @GET
  public Comparison compare(
      @QueryParam("runs")
          @NotNull(message = "give the run ids to compare, e.g. ?runs=finetune-a,finetune-b")
          @Size(max = 2600, message = "must be at most 2600 characters (10 run ids)")
          String runs) {
    return comparer.compare(RunComparer.parseIds(runs));
  }
}
