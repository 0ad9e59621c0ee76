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

  private final GpuActivities gpu =
      Workflow.newActivityStub(
          GpuActivities.class,
          ActivityOptions.newBuilder()
              .setTaskQueue(TaskQueues.GPU)
              .setScheduleToStartTimeout(SCHEDULE_TO_START)
              .setStartToCloseTimeout(START_TO_CLOSE)
              .setHeartbeatTimeout(ActivityPolicies.GPU_HEARTBEAT_TIMEOUT)
              .setRetryOptions(
                  RetryOptions.newBuilder()
                      .setMaximumAttempts(2)
                      .setDoNotRetry(FailureTypes.INVALID_RUN_SPEC, FailureTypes.INVALID_BASE_MODEL)
                      .build())
              .build());

  @Override
  public TryResult run(TryRequest request) {
    return gpu.generate(request);
  }
}
