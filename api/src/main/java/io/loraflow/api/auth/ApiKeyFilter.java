package io.loraflow.api.auth;

import io.loraflow.api.api.ErrorBody;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.lang.reflect.Method;
import java.util.Optional;
import java.util.Set;

/**
 * Requires {@code Authorization: Bearer <key>} on every application request except the OpenAPI
 * document: 401 when the key is missing or unknown, 403 when it lacks the scope the endpoint
 * declares with {@link RequiresScope} (undeclared endpoints need admin). The key's id is left in
 * the request property {@value #KEY_ID} (for admission control and logs); the key never is.
 */
@Priority(Priorities.AUTHENTICATION)
public final class ApiKeyFilter implements ContainerRequestFilter {

  /** Request property holding the authenticated key's id. */
  public static final String KEY_ID = "loraflow.keyId";

  /** Paths (relative to the application root, no leading slash) that need no key. */
  public static final Set<String> OPEN_PATHS = Set.of("v1/openapi.json");

  private final ApiKeys keys;

  @Context private ResourceInfo resource;

  public ApiKeyFilter(ApiKeys keys) {
    this.keys = keys;
  }

  @Override
  public void filter(ContainerRequestContext request) {
    String path = request.getUriInfo().getPath(false);
    if (OPEN_PATHS.contains(path.startsWith("/") ? path.substring(1) : path)) {
      return;
    }
    String secret = ApiKeys.bearer(request.getHeaderString(HttpHeaders.AUTHORIZATION));
    if (secret == null) {
      request.abortWith(
          unauthorized(
              "missing 'Authorization: Bearer <key>' header; create a key with `loraflow keys add`"));
      return;
    }
    Optional<ApiKey> key = keys.authenticate(secret);
    if (key.isEmpty()) {
      request.abortWith(unauthorized("API key is not valid (unknown or revoked)"));
      return;
    }
    Scope needed = needed(resource);
    if (!key.get().scope().covers(needed)) {
      request.abortWith(
          Response.status(Response.Status.FORBIDDEN)
              .type(MediaType.APPLICATION_JSON_TYPE)
              .entity(
                  ErrorBody.of(
                      403,
                      "key '"
                          + key.get().id()
                          + "' has scope "
                          + key.get().scope().wire()
                          + "; "
                          + request.getMethod()
                          + " /"
                          + path.replaceFirst("^/", "")
                          + " needs "
                          + needed.wire()))
              .build());
      return;
    }
    request.setProperty(KEY_ID, key.get().id());
  }

  /** The scope the matched method declares (method over class; none = admin). */
  static Scope needed(ResourceInfo info) {
    if (info == null || info.getResourceMethod() == null) {
      return Scope.ADMIN;
    }
    Method m = info.getResourceMethod();
    RequiresScope s = m.getAnnotation(RequiresScope.class);
    if (s == null && info.getResourceClass() != null) {
      s = info.getResourceClass().getAnnotation(RequiresScope.class);
    }
    return s == null ? Scope.ADMIN : s.value();
  }

  private static Response unauthorized(String message) {
    return Response.status(Response.Status.UNAUTHORIZED)
        .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"loraflow\"")
        .type(MediaType.APPLICATION_JSON_TYPE)
        .entity(ErrorBody.of(401, message))
        .build();
  }
}
