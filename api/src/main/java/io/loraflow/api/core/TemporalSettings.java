package io.loraflow.api.core;

import io.dropwizard.util.Duration;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

/**
 * Where the Temporal frontend is.
 *
 * @param target gRPC {@code host:port} of the frontend, e.g. {@code 127.0.0.1:7233}
 * @param namespace Temporal namespace the runs live in
 * @param queryTimeout how long one progress query may take before the API answers without progress
 *     (a query needs a CPU worker to be polling; without one it would hang)
 */
public record TemporalSettings(
    @NotBlank
        @Pattern(
            regexp = "[A-Za-z0-9.\\-\\[\\]:]+:\\d{1,5}",
            message = "must be host:port, e.g. 127.0.0.1:7233")
        String target,
    @NotBlank String namespace,
    @NotNull Duration queryTimeout) {}
