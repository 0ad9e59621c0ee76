package io.loraflow.api.health;

import com.codahale.metrics.health.HealthCheck;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.util.concurrent.TimeUnit;

/** Healthy when the Temporal frontend answers and knows the namespace, within 3 s. */
public final class TemporalHealthCheck extends HealthCheck {

  private final WorkflowServiceStubs stubs;
  private final String target;
  private final String namespace;

  public TemporalHealthCheck(WorkflowServiceStubs stubs, String target, String namespace) {
    this.stubs = stubs;
    this.target = target;
    this.namespace = namespace;
  }

  @Override
  protected Result check() {
    try {
      stubs
          .blockingStub()
          .withDeadlineAfter(3, TimeUnit.SECONDS)
          .describeNamespace(DescribeNamespaceRequest.newBuilder().setNamespace(namespace).build());
      return Result.healthy("Temporal at %s, namespace %s", target, namespace);
    } catch (RuntimeException e) {
      return Result.unhealthy(
          "Temporal at %s (namespace %s): %s", target, namespace, e.getMessage());
    }
  }
}
