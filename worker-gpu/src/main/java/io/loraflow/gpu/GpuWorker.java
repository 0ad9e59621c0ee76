package io.loraflow.gpu;

import io.loraflow.infra.NativeHeapTrim;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.StackSettings;
import io.loraflow.infra.TemporalConnection;
import io.loraflow.infra.TokenizerFlavor;
import io.loraflow.infra.WorkerLifecycle;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.ActivityPolicies;
import io.loraflow.workflows.TaskQueues;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GPU worker: polls {@link TaskQueues#GPU} and runs {@link GpuActivitiesImpl}, one activity at
 * a time by default (one GPU, one job; {@code LORAFLOW_GPU_CONCURRENCY} raises it).
 *
 * <p>SIGTERM: the running training writes a checkpoint to MinIO and stops, the attempt fails
 * retryably, and the next attempt (on any GPU worker) resumes from that checkpoint.
 */
public final class GpuWorker {
  private static final Logger log = LoggerFactory.getLogger(GpuWorker.class);

  /** Time a stopping worker gives the running activity to checkpoint and upload. */
  static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(120);

  private GpuWorker() {}

  public static void main(String[] args) {
    WorkerLifecycle.defaultLogging();
    TokenizerFlavor.useCpuUnlessSet();
    StackSettings stack = StackSettings.load();
    GpuSettings settings = GpuSettings.load(System.getenv());
    log.info(
        "GPU worker: {}, work dir {}, concurrency {}",
        stack,
        settings.workDir(),
        settings.concurrency());
    TemporalConnection temporal = TemporalConnection.open(stack, Duration.ofSeconds(30));
    ObjectStore store = ObjectStore.connect(stack);
    Tracking tracking = Tracking.connect(stack, store);
    GpuActivitiesImpl activities = new GpuActivitiesImpl(settings, store, tracking);

    // freed native memory (libtorch, tokenizers) goes back to the OS after each activity
    WorkerFactory factory =
        WorkerFactory.newInstance(
            temporal.client(),
            WorkerFactoryOptions.newBuilder()
                .setWorkerInterceptors(NativeHeapTrim.forWorker(System.getenv()))
                .build());
    Worker worker =
        factory.newWorker(
            TaskQueues.GPU,
            WorkerLifecycle.heartbeatUntilActivitiesReturn(WorkerOptions.newBuilder())
                // one training per GPU: whatever else is queued waits on the server, so memory
                // does not grow with the queue
                .setMaxConcurrentActivityExecutionSize(settings.concurrency())
                // no workflow or local-activity work here: keep those slots (and caches) minimal
                .setMaxConcurrentWorkflowTaskExecutionSize(2)
                .setMaxConcurrentLocalActivityExecutionSize(1)
                // heartbeats carry progress, liveness and the cancel: the SDK may hold one back
                // for at most this long (by default 0.8 x the heartbeat timeout)
                .setMaxHeartbeatThrottleInterval(ActivityPolicies.GPU_HEARTBEAT_EVERY)
                .build());
    worker.registerActivitiesImplementations(activities);
    WorkerLifecycle.runUntilShutdown(
        "gpu-worker", factory, activities::requestStop, SHUTDOWN_GRACE, tracking, store, temporal);
  }
}
