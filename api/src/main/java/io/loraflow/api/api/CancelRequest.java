package io.loraflow.api.api;

import jakarta.validation.constraints.Size;

/**
 * Optional body of a cancel request.
 *
 * @param reason shown in the run's failure ("Cancelled: reason"); default "cancelled via API"
 */
public record CancelRequest(@Size(max = 500) String reason) {}
