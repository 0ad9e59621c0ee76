package io.loraflow.api.core;

import io.dropwizard.lifecycle.Managed;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.time.Duration;

/**
 * One connection to Temporal with its workflow and schedule clients; closed when the service stops.
 * The connection is lazy: the service starts even while Temporal is down (health says so).
 */
public final class TemporalClients implements Managed, AutoCloseable {

  private final WorkflowServiceStubs stubs;
  private final WorkflowClient workflows;
  private final ScheduleClient schedules;

  public TemporalClients(WorkflowServiceStubs stubs, String namespace) {
    this.stubs = stubs;
    this.workflows =
        WorkflowClient.newInstance(
            stubs, WorkflowClientOptions.newBuilder().setNamespace(namespace).build());
    this.schedules =
        ScheduleClient.newInstance(
            stubs, ScheduleClientOptions.newBuilder().setNamespace(namespace).build());
  }

  /** Connects (lazily) to {@code settings.target()}; queries give up after the query timeout. */
  public static TemporalClients connect(TemporalSettings settings) {
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder()
                .setTarget(settings.target())
                .setRpcQueryTimeout(Duration.ofMillis(settings.queryTimeout().toMilliseconds()))
                .build());
    return new TemporalClients(stubs, settings.namespace());
  }

  public WorkflowServiceStubs stubs() {
    return stubs;
  }

  public WorkflowClient workflows() {
    return workflows;
  }

  public ScheduleClient schedules() {
    return schedules;
  }

  @Override
  public void stop() {
    close();
  }

  @Override
  public void close() {
    stubs.shutdown();
  }
}
