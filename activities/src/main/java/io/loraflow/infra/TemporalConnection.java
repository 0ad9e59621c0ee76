package io.loraflow.infra;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.time.Duration;

/** A gRPC connection to the stack's Temporal server and a client in its namespace. */
public final class TemporalConnection implements AutoCloseable {
  private final WorkflowServiceStubs service;
  private final WorkflowClient client;

  private TemporalConnection(WorkflowServiceStubs service, WorkflowClient client) {
    this.service = service;
    this.client = client;
  }

  /**
   * Connects and waits (up to {@code timeout}) until the server answers.
   *
   * @throws IllegalStateException naming the target and how to start the stack
   */
  public static TemporalConnection open(StackSettings settings, Duration timeout) {
    WorkflowServiceStubs service;
    try {
      service =
          WorkflowServiceStubs.newConnectedServiceStubs(
              WorkflowServiceStubsOptions.newBuilder().setTarget(settings.temporalTarget()).build(),
              timeout);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "Temporal at "
              + settings.temporalTarget()
              + " did not answer within "
              + timeout.toSeconds()
              + " s ("
              + e.getMessage()
              + "); "
              + StackSettings.HOW_TO_FIX,
          e);
    }
    WorkflowClient client =
        WorkflowClient.newInstance(
            service,
            WorkflowClientOptions.newBuilder().setNamespace(settings.temporalNamespace()).build());
    return new TemporalConnection(service, client);
  }

  public WorkflowClient client() {
    return client;
  }

  public WorkflowServiceStubs service() {
    return service;
  }

  @Override
  public void close() {
    service.shutdown();
    service.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
  }
}
