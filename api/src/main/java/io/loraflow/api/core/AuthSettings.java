package io.loraflow.api.core;

import com.fasterxml.jackson.annotation.JsonIgnore;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;

/**
 * Bearer-token authentication of the REST API. Health and the OpenAPI document stay open.
 *
 * @param token the one accepted token ({@code Authorization: Bearer <token>}); at least 16
 *     characters so that a placeholder cannot slip into production
 */
public record AuthSettings(
    @NotNull
        @Size(
            min = 16,
            message =
                "must be at least 16 characters; set LORAFLOW_API_TOKEN to a long random string")
        String token) {

  @Override
  @JsonIgnore
  public String toString() {
    return "AuthSettings[token=<" + (token == null ? 0 : token.length()) + " chars>]";
  }
}
