package io.loraflow.infra;

import io.loraflow.infra.mlflow.ModelRegistry;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.ActivityPolicies;
import io.loraflow.workflows.CpuActivities;
import io.loraflow.workflows.FineTuneWorkflowImpl;
import io.loraflow.workflows.TaskQueues;
import io.loraflow.workflows.admission.AdmissionConfig;
import io.loraflow.workflows.admission.AdmissionGate;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CPU worker: the FineTune and Sweep workflows, the admission gate and the CPU activities on
 * {@link TaskQueues#CPU}. Stateless; run as many as you like. SIGTERM stops polling and lets
 * running activities finish. Bounded load: at most {@link CpuWorkerLimits} at once, however many
 * runs are queued.
 */
public final class CpuWorker {
  private static final Logger log = LoggerFactory.getLogger(CpuWorker.class);
  static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(30);

  private CpuWorker() {}

  /** Registers the workflow and {@code activities} on a new worker of {@code factory}. */
  public static Worker register(WorkerFactory factory, CpuActivities activities) {
    return register(factory, activities, CpuWorkerLimits.DEFAULT);
  }

  /** The same with explicit limits. */
  public static Worker register(
      WorkerFactory factory, CpuActivities activities, CpuWorkerLimits limits) {
    return register(factory, activities, limits, AdmissionConfig.fromEnv(System.getenv()));
  }

  /** The same with explicit admission-gate settings. */
  public static Worker register(
      WorkerFactory factory,
      CpuActivities activities,
      CpuWorkerLimits limits,
      AdmissionConfig admission) {
    Worker worker = factory.newWorker(TaskQueues.CPU, limits.workerOptions());
    // the FIFO admission gate (one per namespace) runs on whichever CPU worker takes it
    AdmissionGate.register(worker, factory.getWorkflowClient(), admission);
    worker.registerWorkflowImplementationTypes(
        FineTuneWorkflowImpl.class,
        io.loraflow.workflows.TryAdapterWorkflowImpl.class,
        io.loraflow.workflows.SweepWorkflowImpl.class);
    worker.registerActivitiesImplementations(activities);
    return worker;
  }

  /**
   * The CPU worker's factory: its cache limits, the interceptor that heartbeats every CPU activity
   * (see {@link io.loraflow.workflows.ActivityPolicies#CPU_HEARTBEAT_TIMEOUT}) and the one that
   * returns freed native memory after each ({@link NativeHeapTrim}).
   */
  public static WorkerFactory newFactory(WorkflowClient client, CpuWorkerLimits limits) {
    return WorkerFactory.newInstance(
        client,
        WorkerFactoryOptions.newBuilder(limits.factoryOptions())
            .setWorkerInterceptors(
                new LivenessHeartbeats(ActivityPolicies.CPU_HEARTBEAT_EVERY),
                NativeHeapTrim.forWorker(System.getenv()))
            .build());
  }

  /** A started CPU worker on {@code client} (for tests and embedding). */
  public static WorkerFactory start(WorkflowClient client, CpuActivities activities) {
    WorkerFactory factory = newFactory(client, CpuWorkerLimits.DEFAULT);
    register(factory, activities);
    factory.start();
    return factory;
  }

  public static void main(String[] args) {
    WorkerLifecycle.defaultLogging();
    TokenizerFlavor.useCpuUnlessSet(); // formatPrompts tokenizes; a CUDA host must not download
    StackSettings stack = StackSettings.load();
    CpuWorkerLimits limits = CpuWorkerLimits.load(System.getenv());
    AdmissionConfig admission = AdmissionConfig.fromEnv(System.getenv());
    log.info("CPU worker: {}, {}, {}", stack, limits, admission);
    TemporalConnection temporal = TemporalConnection.open(stack, Duration.ofSeconds(30));
    ObjectStore store = ObjectStore.connect(stack);
    Tracking tracking = Tracking.connect(stack, store);
    ModelRegistry registry = new ModelRegistry(tracking.rest());
    WorkerFactory factory = newFactory(temporal.client(), limits);
    register(
        factory, CpuActivitiesFactory.create(stack, store, tracking, registry), limits, admission);
    WorkerLifecycle.runUntilShutdown(
        "cpu-worker", factory, () -> {}, SHUTDOWN_GRACE, tracking, store, temporal);
  }
}
