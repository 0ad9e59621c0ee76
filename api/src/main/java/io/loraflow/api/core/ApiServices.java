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
    ScheduleService schedules,
    AdmissionControl admission,
    LimitSettings limits,
    AdapterTrials trials) {

  /** Everything against one Temporal namespace and one MLflow server, with default limits. */
  public static ApiServices connect(
      RunService runs, io.temporal.client.schedules.ScheduleClient schedules, java.net.URI mlflow) {
    return connect(runs, schedules, mlflow, LimitSettings.defaults());
  }

  /** Everything against one Temporal namespace and one MLflow server. */
  public static ApiServices connect(
      RunService runs,
      io.temporal.client.schedules.ScheduleClient schedules,
      java.net.URI mlflow,
      LimitSettings limits) {
    io.loraflow.infra.mlflow.MlflowRest rest = new io.loraflow.infra.mlflow.MlflowRest(mlflow);
    AdapterCatalog adapters =
        new AdapterCatalog(new io.loraflow.infra.mlflow.ModelRegistry(rest), mlflow);
    return new ApiServices(
        runs,
        new Retrainer(runs, schedules, adapters),
        adapters,
        new RunComparer(rest),
        new ScheduleService(schedules),
        new AdmissionControl(runs.client(), limits, java.time.Clock.systemUTC()),
        limits,
        new AdapterTrials(runs, adapters));
  }
}
