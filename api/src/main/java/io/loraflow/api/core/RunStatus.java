package io.loraflow.api.core;

import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import java.util.Locale;
import java.util.Map;

/** Run status words of the API, from Temporal's workflow execution status. */
public final class RunStatus {

  /** API word -> the ExecutionStatus value of Temporal's visibility queries. */
  static final Map<String, String> VISIBILITY =
      Map.of(
          "RUNNING", "Running",
          "COMPLETED", "Completed",
          "FAILED", "Failed",
          "CANCELED", "Canceled",
          "CANCELLED", "Canceled",
          "TERMINATED", "Terminated",
          "TIMED_OUT", "TimedOut",
          "CONTINUED_AS_NEW", "ContinuedAsNew");

  /** Accepted values of a status filter (for validation messages). */
  public static final String FILTER_PATTERN =
      "(?i)RUNNING|COMPLETED|FAILED|CANCELED|CANCELLED|TERMINATED|TIMED_OUT|CONTINUED_AS_NEW";

  private RunStatus() {}

  /** {@code WORKFLOW_EXECUTION_STATUS_TIMED_OUT} -> {@code TIMED_OUT}; CANCELED -> CANCELLED. */
  public static String of(WorkflowExecutionStatus status) {
    String name = status.name().replace("WORKFLOW_EXECUTION_STATUS_", "");
    return "CANCELED".equals(name) ? "CANCELLED" : name;
  }

  static String visibilityName(String apiStatus) {
    String v = VISIBILITY.get(apiStatus.toUpperCase(Locale.ROOT));
    if (v == null) {
      throw new IllegalArgumentException(
          "status '" + apiStatus + "' must be one of " + VISIBILITY.keySet());
    }
    return v;
  }
}
