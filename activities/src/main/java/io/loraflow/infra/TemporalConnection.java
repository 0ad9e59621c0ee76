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
   * Connects and waits (up to {@code timeout}) until the server answers, asking again until the
   * whole budget is spent: the SDK's own connect can end early (in the chaos soak a GPU worker gave
   * up 18 s into its 30 s, on DEADLINE_EXCEEDED of one ~4 s call to a dev server slowed by a load
   * average of 17).
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
      Duration attempt = left.compareTo(ATTEMPT) < 0 ? left : ATTEMPT;
      try {
        service.connect(attempt.isNegative() ? Duration.ofMillis(1) : attempt);
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

  /** Longest single connection attempt (the SDK's own call may still take a little longer). */
  static final Duration ATTEMPT = Duration.ofSeconds(10);

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
