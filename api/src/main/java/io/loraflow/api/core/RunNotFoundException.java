package io.loraflow.api.core;

/** No workflow with this id in the namespace (HTTP 404). */
public final class RunNotFoundException extends RuntimeException {
  public RunNotFoundException(String runId, String namespace) {
    super(
        "no run '"
            + runId
            + "' in Temporal namespace '"
            + namespace
            + "'; list runs with GET /v1/runs or `loraflow list`");
  }
}
