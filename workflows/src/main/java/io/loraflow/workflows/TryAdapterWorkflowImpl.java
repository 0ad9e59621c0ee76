package io.loraflow.workflows;

import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;

/** One generate activity with tight bounds: a try is interactive, so it fails fast. */
public class TryAdapterWorkflowImpl implements TryAdapterWorkflow {

  /** How long a try may wait for a GPU worker to pick it up. */
  public static final Duration SCHEDULE_TO_START = Duration.ofMinutes(2);

  /** Loading the model and the adapter plus at most 512 new tokens. */
  static final Duration START_TO_CLOSE = Duration.ofMinutes(10);

  private final GpuActivities gpu;

  /** The workflow as workers run it: a try waits {@link #SCHEDULE_TO_START} for a GPU worker. */
  public TryAdapterWorkflowImpl() {
    this(SCHEDULE_TO_START);
  }

  /**
   * A try that waits {@code scheduleToStart} for a GPU worker; tests register it with a short bound
   * through a workflow factory (Temporal's test server cannot skip time while an activity task is
   * waiting, so the 2-minute bound would take 2 minutes of wall time).
   */
  public TryAdapterWorkflowImpl(Duration scheduleToStart) {
    this.gpu =
        Workflow.newActivityStub(
            GpuActivities.class,
            ActivityOptions.newBuilder()
                .setTaskQueue(TaskQueues.GPU)
                .setScheduleToStartTimeout(scheduleToStart)
                .setStartToCloseTimeout(START_TO_CLOSE)
                .setHeartbeatTimeout(ActivityPolicies.GPU_HEARTBEAT_TIMEOUT)
                .setRetryOptions(
                    RetryOptions.newBuilder()
                        .setMaximumAttempts(2)
                        .setDoNotRetry(
                            FailureTypes.INVALID_RUN_SPEC, FailureTypes.INVALID_BASE_MODEL)
                        .build())
                .build());
  }

  @Override
  public TryResult run(TryRequest request) {
    return gpu.generate(request);
  }
}
