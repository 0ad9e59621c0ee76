package io.loraflow.infra;

import io.loraflow.activities.cpu.CpuActivitiesImpl;
import io.loraflow.activities.cpu.LinkConfig;
import io.loraflow.activities.dataset.DatasetConfig;
import io.loraflow.activities.dataset.DatasetPreparer;
import io.loraflow.infra.mlflow.ModelRegistry;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.CpuActivities;
import java.util.Map;

/** Wires the pipeline's {@link CpuActivitiesImpl} to the stack: MinIO, MLflow, the registry. */
public final class CpuActivitiesFactory {
  private CpuActivitiesFactory() {}

  public static CpuActivities create(
      StackSettings stack, ObjectStore store, Tracking tracking, ModelRegistry registry) {
    return create(stack, store, tracking, registry, System.getenv());
  }

  /**
   * @param env dataset limits and allowed file roots ({@link DatasetConfig#fromEnv})
   */
  public static CpuActivities create(
      StackSettings stack,
      ObjectStore store,
      Tracking tracking,
      ModelRegistry registry,
      Map<String, String> env) {
    LinkConfig links =
        new LinkConfig(
            stack.temporalUi() == null ? null : stack.temporalUi().toString(),
            stack.temporalNamespace(),
            stack.mlflowUri().toString(),
            stack.minioConsole() == null ? null : stack.minioConsole().toString(),
            stack.bucket());
    return new CpuActivitiesImpl(
        store,
        new DatasetPreparer(
            DatasetConfig.fromEnv(env),
            store,
            io.loraflow.activities.dataset.AddressPolicy.fromEnv(env)),
        tracking,
        registry,
        links,
        io.loraflow.activities.prompts.TrainingTextGuard.Mode.parse(
            env.get(io.loraflow.activities.prompts.TrainingTextGuard.ENV)));
  }
}
