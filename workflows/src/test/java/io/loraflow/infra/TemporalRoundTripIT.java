package io.loraflow.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.SearchAttributeKey;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The Temporal wiring is real: a workflow started through the SDK against the running dev server,
 * executed by a worker in this JVM (one activity, one search attribute upsert), is still in the
 * server's history after the dev server process has been replaced by a new one ({@code stack.sh
 * restart temporal}).
 */
class TemporalRoundTripIT {
  /** Registered by stack.sh; the FineTune workflow upserts it too. */
  private static final SearchAttributeKey<String> PHASE =
      SearchAttributeKey.forKeyword("LoraflowPhase");

  @WorkflowInterface
  public interface GreetingWorkflow {
    @WorkflowMethod
    String greet(String name);
  }

  @ActivityInterface
  public interface GreetingActivities {
    String compose(String name);
  }

  public static class GreetingWorkflowImpl implements GreetingWorkflow {
    private final GreetingActivities activities =
        Workflow.newActivityStub(
            GreetingActivities.class,
            ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofSeconds(30)).build());

    @Override
    public String greet(String name) {
      Workflow.upsertTypedSearchAttributes(PHASE.valueSet("round-trip"));
      return activities.compose(name);
    }
  }

  static class GreetingActivitiesImpl implements GreetingActivities {
    @Override
    public String compose(String name) {
      return "hello, " + name.toUpperCase(Locale.ROOT);
    }
  }

  @Test
  void workflowHistorySurvivesADevServerRestart() throws Exception {
    LocalStack stack = LocalStack.find();
    String target = stack.get("LORAFLOW_TEMPORAL_TARGET");
    String namespace = stack.get("LORAFLOW_TEMPORAL_NAMESPACE");
    String runTag = UUID.randomUUID().toString();
    String taskQueue = "loraflow-round-trip-" + runTag;
    String workflowId = "loraflow-round-trip-" + runTag;

    WorkflowServiceStubs service = connect(target);
    WorkflowClient client = newClient(service, namespace);
    WorkerFactory factory = WorkerFactory.newInstance(client);
    Worker worker = factory.newWorker(taskQueue);
    worker.registerWorkflowImplementationTypes(GreetingWorkflowImpl.class);
    worker.registerActivitiesImplementations(new GreetingActivitiesImpl());
    factory.start();
    String result;
    try {
      GreetingWorkflow workflow =
          client.newWorkflowStub(
              GreetingWorkflow.class,
              WorkflowOptions.newBuilder()
                  .setTaskQueue(taskQueue)
                  .setWorkflowId(workflowId)
                  .setWorkflowExecutionTimeout(Duration.ofMinutes(2))
                  .build());
      result = workflow.greet("loraflow");
    } finally {
      factory.shutdown();
      factory.awaitTermination(30, TimeUnit.SECONDS);
      service.shutdown();
      service.awaitTermination(10, TimeUnit.SECONDS);
    }
    assertEquals("hello, LORAFLOW", result);

    long serverBefore = stack.pidOf("temporal");
    stack.restart("temporal");
    assertNotEquals(serverBefore, stack.pidOf("temporal"), "stack.sh restart kept the old server");

    WorkflowServiceStubs restarted = connect(target);
    try {
      WorkflowClient after = newClient(restarted, namespace);
      WorkflowExecutionHistory history = after.fetchHistory(workflowId);
      List<HistoryEvent> events = history.getEvents();
      assertEquals(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, events.get(0).getEventType());
      assertTrue(
          events.stream()
              .anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED),
          "no ActivityTaskCompleted event in " + events);
      HistoryEvent last = events.get(events.size() - 1);
      assertEquals(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, last.getEventType());
      String recorded =
          DefaultDataConverter.STANDARD_INSTANCE.fromPayloads(
              0,
              Optional.of(last.getWorkflowExecutionCompletedEventAttributes().getResult()),
              String.class,
              String.class);
      assertEquals("hello, LORAFLOW", recorded);

      var description = after.newUntypedWorkflowStub(workflowId).describe();
      assertEquals(
          WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED, description.getStatus());
      assertEquals("round-trip", description.getTypedSearchAttributes().get(PHASE));
    } finally {
      restarted.shutdown();
      restarted.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static WorkflowServiceStubs connect(String target) {
    return WorkflowServiceStubs.newConnectedServiceStubs(
        WorkflowServiceStubsOptions.newBuilder().setTarget(target).build(), Duration.ofSeconds(30));
  }

  private static WorkflowClient newClient(WorkflowServiceStubs service, String namespace) {
    return WorkflowClient.newInstance(
        service, WorkflowClientOptions.newBuilder().setNamespace(namespace).build());
  }
}
