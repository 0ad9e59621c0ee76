package io.loraflow.workflows;

/**
 * Temporal task-queue names. CPU activities (dataset, prompts, tracking, registry) and the workflow
 * itself run on the CPU queue; everything that needs the engine (base-model preparation, training,
 * evaluation) runs on the GPU queue, so GPU workers poll only for GPU work.
 */
public final class TaskQueues {
  /** Workflow tasks and CPU activities. */
  public static final String CPU = "loraflow-cpu";

  /** Activities that need the engine: {@link GpuActivities}. */
  public static final String GPU = "loraflow-gpu";

  private TaskQueues() {}
}
