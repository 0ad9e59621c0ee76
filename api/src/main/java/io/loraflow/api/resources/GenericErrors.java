package io.loraflow.api.resources;

import io.loraflow.api.api.ErrorBody;
import io.loraflow.api.core.InvalidBodyException;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every error as the same JSON {@link ErrorBody}: bad bodies (400 with one entry per field), the
 * framework's own answers (404, 405 with {@code Allow}, 406, 413, 415) and, as the last resort, an
 * unexpected failure (500 with an incident id that is in the server log; no internals in the body).
 */
public final class GenericErrors {

  private static final Logger LOG = LoggerFactory.getLogger(GenericErrors.class);

  private GenericErrors() {}

  public static List<Object> all() {
    return List.of(new InvalidBody(), new NotAllowed(), new Web(), new Unexpected());
  }

  public static final class InvalidBody implements ExceptionMapper<InvalidBodyException> {
    @Override
    public Response toResponse(InvalidBodyException e) {
      return ErrorResponses.json(400, new ErrorBody(400, e.getMessage(), e.errors()));
    }
  }

  public static final class NotAllowed implements ExceptionMapper<NotAllowedException> {
    @Override
    public Response toResponse(NotAllowedException e) {
      String allow =
          String.join(", ", new java.util.TreeSet<>(e.getResponse().getAllowedMethods()));
      return Response.status(405)
          .header(HttpHeaders.ALLOW, allow)
          .type(MediaType.APPLICATION_JSON_TYPE)
          .entity(ErrorBody.of(405, "method not allowed here; allowed: " + allow))
          .build();
    }
  }

  /** 404 for unknown paths, 406, 415, and the 413 of {@link RequestLimits}. */
  public static final class Web implements ExceptionMapper<WebApplicationException> {
    @Override
    public Response toResponse(WebApplicationException e) {
      Response r = e.getResponse();
      if (r.hasEntity() && r.getEntity() instanceof ErrorBody) {
        return r;
      }
      int status = r.getStatus();
      String message =
          switch (status) {
            case 404 -> "no such resource; the API is described at /v1/openapi.json";
            case 406 -> "this API answers application/json only";
            case 415 -> "request bodies must be application/json";
            default -> r.getStatusInfo().getReasonPhrase();
          };
      Response.ResponseBuilder b =
          Response.status(status)
              .type(MediaType.APPLICATION_JSON_TYPE)
              .entity(ErrorBody.of(status, message));
      r.getHeaders()
          .forEach(
              (k, v) -> {
                if (!k.equalsIgnoreCase(HttpHeaders.CONTENT_TYPE)
                    && !k.equalsIgnoreCase(HttpHeaders.CONTENT_LENGTH)) {
                  v.forEach(x -> b.header(k, x));
                }
              });
      return b.build();
    }
  }

  public static final class Unexpected implements ExceptionMapper<RuntimeException> {
    @Override
    public Response toResponse(RuntimeException e) {
      String incident = UUID.randomUUID().toString().substring(0, 8);
      LOG.error("incident {}: unexpected failure", incident, e);
      return ErrorResponses.json(
          500,
          ErrorBody.of(
              500, "unexpected server error (incident " + incident + " in the server log)"));
    }
  }
}
