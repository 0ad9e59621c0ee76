package io.loraflow.api.auth;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * One API key as stored: never the key itself, only its SHA-256.
 *
 * @param id a name for the key (who or what uses it), 1-64 of A-Z a-z 0-9 . _ -
 * @param sha256 lowercase hex SHA-256 of the whole key string
 * @param scope what it may do (each scope includes the ones before it)
 * @param createdAt ISO-8601 UTC
 */
public record ApiKey(String id, String sha256, Scope scope, String createdAt) {

  public static final String ID_PATTERN = "[A-Za-z0-9._-]{1,64}";

  public ApiKey {
    if (id == null || !id.matches(ID_PATTERN)) {
      throw new IllegalArgumentException("key id must be 1-64 of A-Z a-z 0-9 . _ -, got " + id);
    }
    if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("key '" + id + "' has no valid sha256 (64 hex digits)");
    }
    if (scope == null) {
      throw new IllegalArgumentException("key '" + id + "' has no scope (read, write or admin)");
    }
  }

  @Override
  @JsonIgnore
  public String toString() {
    return "ApiKey[" + id + ", " + scope.wire() + "]";
  }
}
