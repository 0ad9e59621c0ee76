package io.loraflow.api.resources;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.loraflow.api.api.ErrorBody;
import io.loraflow.api.api.ValidRunSpec;
import io.loraflow.api.core.InvalidRunSpecException;
import io.loraflow.api.core.RunConflictException;
import io.loraflow.api.core.RunNotFoundException;
import io.temporal.client.WorkflowServiceException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The core's errors as HTTP, one small mapper per exception: not found 404, conflict 409, bad spec
 * 400 (one entry per field), bad argument 400, Temporal unreachable 503.
 */
public final class ErrorResponses {

  private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);

  private ErrorResponses() {}

  /** All mappers of this class, for registration. */
  public static List<Object> all(String temporalTarget) {
    return List.of(
        new NotFound(),
        new NamedNotFound(),
        new TooMany(),
        new Upstream(),
        new VersionNotFound(),
        new Conflict(),
        new InvalidSpec(),
        new BadArgument(),
        new Grpc(temporalTarget),
        new TemporalService(temporalTarget));
  }

  static Response json(int status, ErrorBody body) {
    return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(body).build();
  }

  public static final class NotFound implements ExceptionMapper<RunNotFoundException> {
    @Override
    public Response toResponse(RunNotFoundException e) {
      return json(404, ErrorBody.of(404, e.getMessage()));
    }
  }

  public static final class TooMany
      implements ExceptionMapper<io.loraflow.api.core.TooManyRunsException> {
    @Override
    public Response toResponse(io.loraflow.api.core.TooManyRunsException e) {
      return Response.status(429)
          .header("Retry-After", Long.toString(e.retryAfterSeconds()))
          .type(MediaType.APPLICATION_JSON_TYPE)
          .entity(ErrorBody.of(429, e.getMessage()))
          .build();
    }
  }

  public static final class NamedNotFound
      implements ExceptionMapper<io.loraflow.api.core.NotFoundException> {
    @Override
    public Response toResponse(io.loraflow.api.core.NotFoundException e) {
      return json(404, ErrorBody.of(404, e.getMessage()));
    }
  }

  /** MLflow (or another stack server) down or failing: 503/502, logged with the cause. */
  public static final class Upstream
      implements ExceptionMapper<io.loraflow.api.core.UpstreamException> {
    @Override
    public Response toResponse(io.loraflow.api.core.UpstreamException e) {
      LOG.warn("{} ({})", e.getMessage(), String.valueOf(e.getCause()));
      return json(e.status(), ErrorBody.of(e.status(), e.getMessage()));
    }
  }

  public static final class VersionNotFound
      implements ExceptionMapper<io.loraflow.api.core.ModelVersionNotFoundException> {
    @Override
    public Response toResponse(io.loraflow.api.core.ModelVersionNotFoundException e) {
      return json(404, ErrorBody.of(404, e.getMessage()));
    }
  }

  public static final class Conflict implements ExceptionMapper<RunConflictException> {
    @Override
    public Response toResponse(RunConflictException e) {
      return json(409, ErrorBody.of(409, e.getMessage()));
    }
  }

  public static final class InvalidSpec implements ExceptionMapper<InvalidRunSpecException> {
    @Override
    public Response toResponse(InvalidRunSpecException e) {
      List<ErrorBody.FieldError> errors =
          e.problems().stream()
              .map(p -> new ErrorBody.FieldError(ValidRunSpec.Validator.fieldOf(p), p, null))
              .toList();
      return json(400, new ErrorBody(400, e.getMessage(), errors));
    }
  }

  /** Messages of IllegalArgumentException in this API are written for the caller. */
  public static final class BadArgument implements ExceptionMapper<IllegalArgumentException> {
    @Override
    public Response toResponse(IllegalArgumentException e) {
      return json(400, ErrorBody.of(400, e.getMessage()));
    }
  }

  public static final class Grpc implements ExceptionMapper<StatusRuntimeException> {
    private final String target;

    Grpc(String target) {
      this.target = target;
    }

    @Override
    public Response toResponse(StatusRuntimeException e) {
      return temporalError(e, target);
    }
  }

  public static final class TemporalService implements ExceptionMapper<WorkflowServiceException> {
    private final String target;

    TemporalService(String target) {
      this.target = target;
    }

    @Override
    public Response toResponse(WorkflowServiceException e) {
      return temporalError(e, target);
    }
  }

  static Response temporalError(Throwable e, String target) {
    Status.Code code = null;
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof StatusRuntimeException s) {
        code = s.getStatus().getCode();
        break;
      }
    }
    if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) {
      return json(
          503,
          ErrorBody.of(
              503,
              "Temporal at "
                  + target
                  + " is not reachable ("
                  + code
                  + "); start the stack with `loraflow stack up`"));
    }
    if (code == Status.Code.INVALID_ARGUMENT) {
      String why = "";
      for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
        if (t instanceof StatusRuntimeException s && s.getStatus().getDescription() != null) {
          why = s.getStatus().getDescription();
          break;
        }
      }
      return json(
          400,
          ErrorBody.of(
              400,
              "Temporal rejected the request: "
                  + (why.length() > 200 ? why.substring(0, 200) + "..." : why)));
    }
    LOG.error("Temporal call failed", e);
    return json(
        502, ErrorBody.of(502, "Temporal call failed (" + code + "); see the API server's log"));
  }
}
