package io.loraflow.api.auth;

import io.loraflow.api.api.ErrorBody;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;

/**
 * Requires {@code Authorization: Bearer <token>} on every application request except the OpenAPI
 * document. Health checks live on the admin connector and never pass through here.
 */
@Priority(Priorities.AUTHENTICATION)
public final class BearerTokenFilter implements ContainerRequestFilter {

  /** Paths (relative to the application root, no leading slash) that need no token. */
  public static final Set<String> OPEN_PATHS = Set.of("v1/openapi.json");

  private static final String PREFIX = "Bearer ";

  private final byte[] expected;

  public BearerTokenFilter(String token) {
    if (token == null || token.isEmpty()) {
      throw new IllegalArgumentException("bearer token must not be empty");
    }
    this.expected = token.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void filter(ContainerRequestContext request) {
    String path = request.getUriInfo().getPath(false);
    if (OPEN_PATHS.contains(path.startsWith("/") ? path.substring(1) : path)) {
      return;
    }
    String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
    if (header == null || !header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      request.abortWith(unauthorized("missing 'Authorization: Bearer <token>' header"));
      return;
    }
    byte[] given = header.substring(PREFIX.length()).strip().getBytes(StandardCharsets.UTF_8);
    // constant-time comparison: the response time does not leak how much of the token matched
    if (!MessageDigest.isEqual(expected, given)) {
      request.abortWith(unauthorized("bearer token is not valid"));
    }
  }

  private static Response unauthorized(String message) {
    return Response.status(Response.Status.UNAUTHORIZED)
        .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"loraflow\"")
        .type(MediaType.APPLICATION_JSON_TYPE)
        .entity(ErrorBody.of(401, message))
        .build();
  }
}
