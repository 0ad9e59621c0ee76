package io.loraflow.cli;

import io.loraflow.api.core.ApiServices;
import io.loraflow.api.core.Retrainer;
import io.loraflow.api.core.RunService;
import io.loraflow.api.core.TemporalClients;
import java.util.Map;

/**
 * What a command that talks to the stack gets: the settings and the run service on a Temporal
 * connection. Opened only when such a command runs, so {@code --help} and usage errors never
 * connect; closing it closes the connection it opened (none for a session made around a given
 * service, as tests do).
 */
final class StackSession implements AutoCloseable {

  /** Opens sessions; {@link #CONNECT} in production, a fixed service in tests. */
  interface Opener {
    StackSession open(Map<String, String> env);
  }

  static final Opener CONNECT =
      env -> {
        CliSettings settings = CliSettings.load(env);
        TemporalClients temporal = TemporalClients.connect(settings.temporal());
        return new StackSession(settings, temporal, settings.runService(temporal));
      };

  private final CliSettings settings;
  private final TemporalClients temporal;
  private final RunService runs;
  private ApiServices services;

  StackSession(CliSettings settings, TemporalClients temporal, RunService runs) {
    this.settings = settings;
    this.temporal = temporal;
    this.runs = runs;
  }

  /** A session around an existing service; closing it closes nothing. */
  static Opener around(RunService runs, CliSettings settings) {
    return env -> new StackSession(settings, null, runs);
  }

  CliSettings settings() {
    return settings;
  }

  /** The Temporal connection; null in a session made {@link #around} a service. */
  TemporalClients temporal() {
    return temporal;
  }

  RunService runs() {
    return runs;
  }

  /**
   * The REST service's core services (retrain, adapters, compare, schedules) on this session's
   * Temporal and MLflow, wired as the server wires them.
   */
  ApiServices services() {
    if (services == null) {
      services =
          ApiServices.connect(
              runs, temporal == null ? null : temporal.schedules(), settings.links().mlflow());
    }
    return services;
  }

  Retrainer retrainer() {
    return services().retrainer();
  }

  @Override
  public void close() {
    if (temporal != null) {
      temporal.close();
    }
  }
}
