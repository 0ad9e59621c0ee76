package io.loraflow.api.core;

import com.fasterxml.jackson.annotation.JsonIgnore;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Size;

/**
 * API-key authentication of the REST API (the OpenAPI document stays open; the admin port answers
 * loopback clients and asks others for an admin key).
 *
 * @param keyFile JSON file of key hashes and scopes, managed with {@code loraflow keys
 *     add|list|revoke}; re-read when it changes
 * @param token optional bootstrap key with the admin scope (e.g. LORAFLOW_API_TOKEN from a
 *     deployment's secret); at least 16 characters so that a placeholder cannot slip in
 */
public record AuthSettings(
    String keyFile,
    @Size(
            min = 16,
            message =
                "must be at least 16 characters; set LORAFLOW_API_TOKEN to a long random string, or leave it empty and use key files")
        String token) {

  public AuthSettings {
    keyFile = keyFile == null || keyFile.isBlank() ? null : keyFile.strip();
    token = token == null || token.isBlank() ? null : token;
  }

  @JsonIgnore
  @AssertTrue(
      message =
          "needs a keyFile (LORAFLOW_API_KEYS) or a token (LORAFLOW_API_TOKEN); create a key with `loraflow keys add --id me --scope admin`")
  public boolean isConfigured() {
    return keyFile != null || token != null;
  }

  @Override
  @JsonIgnore
  public String toString() {
    return "AuthSettings[keyFile="
        + keyFile
        + ", token=<"
        + (token == null ? 0 : token.length())
        + " chars>]";
  }
}
