package io.loraflow.api.core;

/**
 * The core services behind the REST resources and the command line, wired once: runs, retrain,
 * registered adapters, run comparison, schedules, admission control.
 */
public record ApiServices(
    RunService runs,
    Retrainer retrainer,
    AdapterCatalog adapters,
    RunComparer comparer,
    ScheduleService schedules) {

  /** Everything against one Temporal namespace and one MLflow server. */
  public static ApiServices connect(
      RunService runs, io.temporal.client.schedules.ScheduleClient schedules, java.net.URI mlflow) {
    io.loraflow.infra.mlflow.MlflowRest rest = new io.loraflow.infra.mlflow.MlflowRest(mlflow);
    AdapterCatalog adapters =
        new AdapterCatalog(new io.loraflow.infra.mlflow.ModelRegistry(rest), mlflow);
    return new ApiServices(
        runs,
        new Retrainer(runs, schedules, adapters),
        adapters,
        new RunComparer(rest),
        new ScheduleService(schedules));
  }
}
