package io.loraflow.api.auth;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The admin connector (health checks, metrics, thread dumps) answers loopback clients as before; a
 * client from another address needs an admin-scope key ({@code Authorization: Bearer <key>}). The
 * default configuration binds the admin connector to 127.0.0.1, so exposing it is a choice, and an
 * exposed one is never open.
 */
public final class AdminAccessFilter implements Filter {

  private final ApiKeys keys;

  public AdminAccessFilter(ApiKeys keys) {
    this.keys = keys;
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    HttpServletRequest request = (HttpServletRequest) req;
    HttpServletResponse response = (HttpServletResponse) res;
    if (isLoopback(request.getRemoteAddr())) {
      chain.doFilter(req, res);
      return;
    }
    String secret = ApiKeys.bearer(request.getHeader("Authorization"));
    Optional<ApiKey> key = secret == null ? Optional.empty() : keys.authenticate(secret);
    if (key.isEmpty()) {
      deny(response, 401, "the admin port needs an admin API key from a non-loopback address");
      return;
    }
    if (!key.get().scope().covers(Scope.ADMIN)) {
      deny(
          response,
          403,
          "key '"
              + key.get().id()
              + "' has scope "
              + key.get().scope().wire()
              + "; the admin port needs admin");
      return;
    }
    chain.doFilter(req, res);
  }

  static boolean isLoopback(String address) {
    if (address == null) {
      return false;
    }
    String literal = address.startsWith("[") ? address.substring(1, address.length() - 1) : address;
    boolean ipv4 = literal.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    boolean ipv6 = literal.contains(":") && literal.matches("[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?");
    if (!ipv4 && !ipv6) {
      return false; // not an IP literal: never resolve a name here
    }
    try {
      return InetAddress.getByName(literal).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  private static void deny(HttpServletResponse response, int status, String message)
      throws IOException {
    response.setStatus(status);
    if (status == 401) {
      response.setHeader("WWW-Authenticate", "Bearer realm=\"loraflow-admin\"");
    }
    response.setContentType("application/json");
    byte[] body =
        ("{\"code\":" + status + ",\"message\":\"" + message.replace("\"", "'") + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
