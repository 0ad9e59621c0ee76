package io.loraflow.infra;

import io.loraflow.workflows.ActivityPolicies;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;
import java.util.Map;

/**
 * How much one CPU worker takes on at once, whatever is queued: the rest waits on the Temporal
 * server (which holds queued tasks for free), not in this process. Memory is then bounded by the
 * JVM heap plus, per running activity, one dataset (at most {@code LORAFLOW_DATASET_MAX_BYTES}) or
 * one tokenizer (native), and per cached workflow one small state object and a thread.
 *
 * @param activities activities run at once ({@code LORAFLOW_CPU_CONCURRENCY}, default 4)
 * @param workflowTasks workflow tasks run at once ({@code LORAFLOW_CPU_WORKFLOW_TASKS}, default 4)
 * @param workflowCache workflows kept in the sticky cache, each with its thread ({@code
 *     LORAFLOW_CPU_WORKFLOW_CACHE}, default 64; an evicted run replays its short history on its
 *     next task)
 */
public record CpuWorkerLimits(int activities, int workflowTasks, int workflowCache) {

  public CpuWorkerLimits {
    EnvInts.requireInRange("LORAFLOW_CPU_CONCURRENCY", activities, 1, 256);
    EnvInts.requireInRange("LORAFLOW_CPU_WORKFLOW_TASKS", workflowTasks, 2, 256);
    EnvInts.requireInRange("LORAFLOW_CPU_WORKFLOW_CACHE", workflowCache, 1, 10_000);
  }

  public static final CpuWorkerLimits DEFAULT = new CpuWorkerLimits(4, 4, 64);

  public static CpuWorkerLimits load(Map<String, String> env) {
    return new CpuWorkerLimits(
        EnvInts.intOf(env, "LORAFLOW_CPU_CONCURRENCY", DEFAULT.activities),
        EnvInts.intOf(env, "LORAFLOW_CPU_WORKFLOW_TASKS", DEFAULT.workflowTasks),
        EnvInts.intOf(env, "LORAFLOW_CPU_WORKFLOW_CACHE", DEFAULT.workflowCache));
  }

  WorkerOptions workerOptions() {
    return WorkerLifecycle.heartbeatUntilActivitiesReturn(WorkerOptions.newBuilder())
        .setMaxConcurrentActivityExecutionSize(activities)
        .setMaxConcurrentWorkflowTaskExecutionSize(workflowTasks)
        .setMaxConcurrentLocalActivityExecutionSize(2)
        // the liveness heartbeats must reach the server within the heartbeat timeout
        .setMaxHeartbeatThrottleInterval(ActivityPolicies.CPU_HEARTBEAT_EVERY)
        .setDefaultHeartbeatThrottleInterval(ActivityPolicies.CPU_HEARTBEAT_EVERY)
        .build();
  }

  WorkerFactoryOptions factoryOptions() {
    // one thread per cached workflow: the thread pool bounds what the cache may hold
    return WorkerFactoryOptions.newBuilder()
        .setWorkflowCacheSize(workflowCache)
        .setMaxWorkflowThreadCount(Math.max(workflowCache * 2, 32))
        .build();
  }
}
