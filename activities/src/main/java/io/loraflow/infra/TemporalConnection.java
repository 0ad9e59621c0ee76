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
   * Connects and waits (up to {@code timeout}) until the server answers. A server that is slow to
   * answer (the SDK's first call has its own deadline of a few seconds: on a loaded machine the dev
   * server missed it and workers exited after 4 s of a 30 s budget) is asked again until {@code
   * timeout} has passed.
   *
   * @throws IllegalStateException naming the target and how to start the stack
   */
  public static TemporalConnection open(StackSettings settings, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    WorkflowServiceStubs service =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget(settings.temporalTarget()).build());
    while (true) {
      Duration left = Duration.ofNanos(deadline - System.nanoTime());
      try {
        service.connect(left.isNegative() ? Duration.ofMillis(1) : left);
        break;
      } catch (RuntimeException e) {
        if (System.nanoTime() + RETRY_PAUSE.toNanos() >= deadline) {
          service.shutdownNow();
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
        sleep(RETRY_PAUSE);
      }
    }
    WorkflowClient client =
        WorkflowClient.newInstance(
            service,
            WorkflowClientOptions.newBuilder().setNamespace(settings.temporalNamespace()).build());
    return new TemporalConnection(service, client);
  }

  /** Pause between two connection attempts. */
  static final Duration RETRY_PAUSE = Duration.ofSeconds(1);

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while connecting to Temporal", e);
    }
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
