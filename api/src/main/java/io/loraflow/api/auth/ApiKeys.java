package io.loraflow.api.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Who a presented key is: a key from the {@link ApiKeyStore} file, or the optional bootstrap key of
 * the configuration ({@code auth.token}, e.g. LORAFLOW_API_TOKEN in a deployment's secret), which
 * has the admin scope. Only hashes are kept in memory.
 */
public final class ApiKeys {

  /** Id of the configured bootstrap key. */
  public static final String BOOTSTRAP_ID = "bootstrap";

  private final ApiKeyStore store;
  private final ApiKey bootstrap;

  /**
   * @param store keys file (may be null: bootstrap key only)
   * @param bootstrapToken the configured token (null or empty: none)
   */
  public ApiKeys(ApiKeyStore store, String bootstrapToken) {
    this.store = store;
    this.bootstrap =
        bootstrapToken == null || bootstrapToken.isEmpty()
            ? null
            : new ApiKey(BOOTSTRAP_ID, ApiKeyStore.sha256(bootstrapToken), Scope.ADMIN, "");
  }

  public Optional<ApiKey> authenticate(String secret) {
    if (secret == null || secret.isEmpty() || secret.length() > 512) {
      return Optional.empty();
    }
    if (bootstrap != null) {
      byte[] given = ApiKeyStore.sha256(secret).getBytes(StandardCharsets.US_ASCII);
      // constant-time: the response time does not tell how much of the hash matched
      if (MessageDigest.isEqual(bootstrap.sha256().getBytes(StandardCharsets.US_ASCII), given)) {
        return Optional.of(bootstrap);
      }
    }
    return store == null ? Optional.empty() : store.find(secret);
  }

  /** The secret of an {@code Authorization: Bearer <key>} header, or null. */
  public static String bearer(String header) {
    String prefix = "Bearer ";
    if (header == null || !header.regionMatches(true, 0, prefix, 0, prefix.length())) {
      return null;
    }
    String s = header.substring(prefix.length()).strip();
    return s.isEmpty() ? null : s;
  }
}
