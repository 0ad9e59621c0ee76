package io.loraflow.api.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraflow.api.api.RetrainRequest;
import io.loraflow.api.api.RetrainResponse;
import io.loraflow.api.api.RunAccepted;
import io.loraflow.workflows.FineTuneWorkflow;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.TaskQueues;
import io.loraflow.workflows.WorkflowIds;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.schedules.Schedule;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.ScheduleAlreadyRunningException;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleHandle;
import io.temporal.client.schedules.ScheduleIntervalSpec;
import io.temporal.client.schedules.ScheduleOptions;
import io.temporal.client.schedules.ScheduleSpec;
import io.temporal.client.schedules.ScheduleUpdate;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Retrain: takes the spec of an earlier run (by run id, or by the registered adapter version it
 * produced), applies a new dataset and overrides, starts a new run and/or creates or updates a
 * Temporal Schedule that starts that spec on a cron/interval.
 */
public final class Retrainer {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final RunService runs;
  private final ScheduleClient schedules;
  private final AdapterCatalog adapters;

  public Retrainer(RunService runs, ScheduleClient schedules, AdapterCatalog adapters) {
    this.runs = runs;
    this.schedules = schedules;
    this.adapters = adapters;
  }

  public RetrainResponse retrain(RetrainRequest request, String idempotencyKey) {
    return retrain(request, idempotencyKey, "cli");
  }

  /** {@link #retrain(RetrainRequest, String)} on behalf of the API key {@code keyId}. */
  public RetrainResponse retrain(RetrainRequest request, String idempotencyKey, String keyId) {
    String sourceRun =
        request.fromRun() != null
            ? request.fromRun()
            : adapters.workflowIdOf(VersionSelector.parse(request.fromModelVersion()));
    RunSpec spec =
        apply(runs.specOf(sourceRun), request.dataset(), request.overrides(), request.runName());
    java.util.List<String> problems = spec.problems();
    if (!problems.isEmpty()) {
      throw new InvalidRunSpecException(problems);
    }
    RunAccepted run = request.startsNow() ? runs.start(spec, idempotencyKey, keyId) : null;
    RetrainResponse.ScheduleView schedule =
        request.schedule() == null ? null : schedule(request.schedule(), sourceRun, spec, keyId);
    return new RetrainResponse(spec, sourceRun, run, schedule);
  }

  /** The source spec with the new dataset, the overrides merged in, and the new run name. */
  static RunSpec apply(RunSpec source, String dataset, ObjectNode overrides, String runName) {
    ObjectNode tree = JSON.valueToTree(source);
    tree.remove("runName"); // a new run never inherits the old one's name (its id)
    if (overrides != null) {
      merge(tree, overrides);
    }
    if (dataset != null) {
      tree.put("dataset", dataset);
    }
    if (runName != null) {
      tree.put("runName", runName);
    }
    try {
      return JSON.treeToValue(tree, RunSpec.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new InvalidRunSpecException(
          List.of("overrides " + e.getOriginalMessage() + " at " + path(e)));
    }
  }

  /**
   * JSON merge patch (RFC 7386): objects merge recursively, null removes, anything else replaces.
   */
  static void merge(ObjectNode target, ObjectNode patch) {
    Iterator<Map.Entry<String, JsonNode>> fields = patch.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      JsonNode current = target.get(f.getKey());
      if (f.getValue().isNull()) {
        target.remove(f.getKey());
      } else if (f.getValue().isObject()) {
        // an object patch merges into the current object, or into an empty one (nulls dropped)
        ObjectNode into =
            current != null && current.isObject() ? (ObjectNode) current : JSON.createObjectNode();
        merge(into, (ObjectNode) f.getValue());
        target.set(f.getKey(), into);
      } else {
        target.set(f.getKey(), f.getValue());
      }
    }
  }

  /**
   * Creates or updates the schedule. Its runs carry {@code keyId} in their memo like runs started
   * through the API, so admission control counts them against the key that scheduled them (and in
   * the total).
   */
  private RetrainResponse.ScheduleView schedule(
      RetrainRequest.ScheduleRequest request, String sourceRun, RunSpec spec, String keyId) {
    String id = request.id() != null ? request.id() : "retrain-" + WorkflowIds.slug(sourceRun, 55);
    String workflowIdPrefix = "finetune-" + id;
    // Scheduled runs must not share a run name: Temporal appends the start time to this id.
    RunSpec scheduled = apply(spec, null, null, null);
    Schedule schedule =
        Schedule.newBuilder()
            .setAction(
                ScheduleActionStartWorkflow.newBuilder()
                    .setWorkflowType(FineTuneWorkflow.class)
                    .setArguments(scheduled)
                    .setOptions(
                        WorkflowOptions.newBuilder()
                            .setWorkflowId(workflowIdPrefix)
                            .setTaskQueue(TaskQueues.CPU)
                            .setMemo(
                                Map.of(
                                    SpecFingerprint.MEMO_KEY,
                                    SpecFingerprint.of(scheduled),
                                    RunService.MEMO_KEY_ID,
                                    keyId == null ? "cli" : keyId))
                            .build())
                    .build())
            .setSpec(
                ScheduleSpec.newBuilder()
                    .setCronExpressions(request.cron() == null ? List.of() : request.cron())
                    .setIntervals(
                        request.every() == null
                            ? List.of()
                            : request.every().stream()
                                .map(e -> new ScheduleIntervalSpec(interval(e)))
                                .toList())
                    .build())
            .build();
    boolean created;
    ScheduleHandle handle;
    try {
      handle = schedules.createSchedule(id, schedule, ScheduleOptions.newBuilder().build());
      created = true;
    } catch (ScheduleAlreadyRunningException e) {
      handle = schedules.getHandle(id);
      handle.update(input -> new ScheduleUpdate(schedule));
      created = false;
    }
    List<String> next =
        handle.describe().getInfo().getNextActionTimes().stream()
            .limit(3)
            .map(Instant::toString)
            .toList();
    return new RetrainResponse.ScheduleView(id, created, next, workflowIdPrefix);
  }

  /** {@code 24h} -> 24 hours; units s, m, h, d. */
  static Duration interval(String text) {
    long n = Long.parseLong(text.substring(0, text.length() - 1));
    return switch (text.charAt(text.length() - 1)) {
      case 's' -> Duration.ofSeconds(n);
      case 'm' -> Duration.ofMinutes(n);
      case 'h' -> Duration.ofHours(n);
      case 'd' -> Duration.ofDays(n);
      default ->
          throw new IllegalArgumentException(
              "interval '" + text + "' must end in s, m, h or d, e.g. 24h");
    };
  }

  private static String path(com.fasterxml.jackson.core.JsonProcessingException e) {
    if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m) {
      return JsonPaths.of(m.getPath());
    }
    return "?";
  }
}
