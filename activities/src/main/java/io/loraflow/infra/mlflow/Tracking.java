package io.loraflow.infra.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraflow.activities.cpu.RunTracker;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.StackSettings;
import io.loraflow.workflows.TrackingRun;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.mlflow.api.proto.Service.CreateRun;
import org.mlflow.api.proto.Service.Metric;
import org.mlflow.api.proto.Service.Param;
import org.mlflow.api.proto.Service.RunInfo;
import org.mlflow.api.proto.Service.RunStatus;
import org.mlflow.api.proto.Service.RunTag;
import org.mlflow.tracking.MlflowClient;

/**
 * Experiment tracking on MLflow: one run per workflow (found again by the tag {@value
 * #WORKFLOW_TAG} when an activity is retried), params, batched metrics, tags and artifacts.
 *
 * <p>Runs, params and metrics go through the MLflow Java client. Artifacts do not (its artifact
 * calls shell out to Python): they are written to MinIO under the run's {@code s3://} artifact
 * root, or through the tracking server's artifact proxy for {@code mlflow-artifacts:/} roots;
 * either way they appear in the MLflow UI.
 */
public final class Tracking implements RunTracker, AutoCloseable {
  public static final String WORKFLOW_TAG = "loraflow.workflow_id";
  // MLflow's log-batch limits: 1000 metrics, 100 params, 100 tags per request.
  private static final int MAX_METRICS_PER_BATCH = 1000;
  private static final int MAX_PARAMS_PER_BATCH = 100;
  private static final int MAX_PARAM_LENGTH = 6000;

  private final MlflowClient client;
  private final MlflowRest rest;
  private final ObjectStore store;

  public Tracking(MlflowClient client, MlflowRest rest, ObjectStore store) {
    this.client = client;
    this.rest = rest;
    this.store = store;
  }

  public static Tracking connect(StackSettings settings, ObjectStore store) {
    String uri = settings.mlflowUri().toString();
    return new Tracking(new MlflowClient(uri), new MlflowRest(settings.mlflowUri()), store);
  }

  public MlflowRest rest() {
    return rest;
  }

  /** The id of the experiment named {@code name}, created if missing (safe against races). */
  public String experimentId(String name) {
    // REST rather than the client: the client retries a 404 as if it were a rate limit
    Optional<String> found = findExperiment(name);
    if (found.isPresent()) {
      return found.get();
    }
    try {
      return rest.post("experiments/create", MlflowRest.object().put("name", name))
          .path("experiment_id")
          .asText();
    } catch (MlflowRestException e) {
      if (e.isAlreadyExists()) { // created by a concurrent caller between our two calls
        return findExperiment(name).orElseThrow(() -> e);
      }
      throw e;
    }
  }

  private Optional<String> findExperiment(String name) {
    try {
      return Optional.of(
          rest.get("experiments/get-by-name", Map.of("experiment_name", name))
              .path("experiment")
              .path("experiment_id")
              .asText());
    } catch (MlflowRestException e) {
      if (e.isNotFound()) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /**
   * The run of {@code workflowId} in {@code experiment}: found by tag {@value #WORKFLOW_TAG} if an
   * earlier attempt created it, created otherwise (with {@code tags} and the workflow tag set at
   * creation, so a crash cannot leave an untagged run behind).
   */
  public TrackedRun runForWorkflow(
      String experiment, String workflowId, String runName, Map<String, String> tags) {
    if (workflowId == null || workflowId.isBlank() || workflowId.contains("'")) {
      throw new IllegalArgumentException(
          "workflow id '" + workflowId + "' cannot be used as an MLflow tag filter");
    }
    String experimentId = experimentId(experiment);
    List<RunInfo> existing =
        client.searchRuns(
            List.of(experimentId), "tags.`" + WORKFLOW_TAG + "` = '" + workflowId + "'");
    if (!existing.isEmpty()) {
      // the oldest one is the run; a second one could only come from a race we never start
      RunInfo run =
          existing.stream()
              .min(java.util.Comparator.comparingLong(RunInfo::getStartTime))
              .orElseThrow();
      if (run.getStatus() != RunStatus.RUNNING) {
        // a retry after the run was marked failed: running again (no end time)
        rest.post(
            "runs/update",
            MlflowRest.object().put("run_id", run.getRunId()).put("status", "RUNNING"));
      }
      return tracked(run, false);
    }
    CreateRun.Builder create =
        CreateRun.newBuilder()
            .setExperimentId(experimentId)
            .setRunName(runName)
            .setStartTime(System.currentTimeMillis())
            .addTags(RunTag.newBuilder().setKey(WORKFLOW_TAG).setValue(workflowId))
            .addTags(RunTag.newBuilder().setKey("mlflow.runName").setValue(runName));
    tags.forEach((k, v) -> create.addTags(RunTag.newBuilder().setKey(k).setValue(v)));
    return tracked(client.createRun(create.build()), true);
  }

  // ------------------------------------------------------------- the pipeline's seam (RunTracker)

  @Override
  public Optional<TrackingRun> findRunByTag(String experimentName, String key, String value) {
    if (value == null || value.contains("'") || key.contains("`")) {
      throw new IllegalArgumentException(
          "tag " + key + "='" + value + "' cannot be used in an MLflow filter");
    }
    Optional<String> experimentId = findExperiment(experimentName);
    if (experimentId.isEmpty()) {
      return Optional.empty();
    }
    return client
        .searchRuns(List.of(experimentId.get()), "tags.`" + key + "` = '" + value + "'")
        .stream()
        .min(java.util.Comparator.comparingLong(RunInfo::getStartTime))
        .map(r -> new TrackingRun(r.getRunId(), r.getExperimentId(), r.getArtifactUri()));
  }

  @Override
  public TrackingRun createRun(String experimentName, String runName, Map<String, String> tags) {
    CreateRun.Builder create =
        CreateRun.newBuilder()
            .setExperimentId(experimentId(experimentName))
            .setRunName(runName)
            .setStartTime(System.currentTimeMillis())
            .addTags(RunTag.newBuilder().setKey("mlflow.runName").setValue(runName));
    tags.forEach((k, v) -> create.addTags(RunTag.newBuilder().setKey(k).setValue(v)));
    RunInfo r = client.createRun(create.build());
    return new TrackingRun(r.getRunId(), r.getExperimentId(), r.getArtifactUri());
  }

  @Override
  public void logMetrics(String runId, Map<String, Double> metrics, long step) {
    long now = System.currentTimeMillis();
    List<MetricPoint> points = new ArrayList<>();
    metrics.forEach((k, v) -> points.add(new MetricPoint(k, v, step, now)));
    logMetrics(runId, points);
  }

  /** Sets the run's status: RUNNING (no end time) or a terminal FINISHED / FAILED / KILLED. */
  @Override
  public void setStatus(String runId, String status) {
    RunStatus parsed;
    try {
      parsed = RunStatus.valueOf(status);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "MLflow run status '" + status + "' is not one of RUNNING, FINISHED, FAILED, KILLED", e);
    }
    if (parsed == RunStatus.RUNNING) {
      rest.post("runs/update", MlflowRest.object().put("run_id", runId).put("status", "RUNNING"));
    } else {
      client.setTerminated(runId, parsed);
    }
  }

  /** A {@link TrackedRun} for a run created through {@link RunTracker} (artifact logging). */
  public TrackedRun tracked(String runId) {
    return tracked(client.getRun(runId).getInfo(), false);
  }

  /** The run's page in the MLflow UI. */
  public String runUrl(String experimentId, String runId) {
    return rest.base() + "#/experiments/" + experimentId + "/runs/" + runId;
  }

  /**
   * Logs params in batches. Re-logging the same value is allowed; a different value is an error.
   */
  public void logParams(String runId, Map<String, String> params) {
    List<Param> batch = new ArrayList<>();
    for (Map.Entry<String, String> e : params.entrySet()) {
      String value = e.getValue() == null ? "" : e.getValue();
      if (value.length() > MAX_PARAM_LENGTH) {
        value = value.substring(0, MAX_PARAM_LENGTH);
      }
      batch.add(Param.newBuilder().setKey(e.getKey()).setValue(value).build());
      if (batch.size() == MAX_PARAMS_PER_BATCH) {
        client.logBatch(runId, List.of(), batch, List.of());
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      client.logBatch(runId, List.of(), batch, List.of());
    }
  }

  /** Logs metric points in batches of up to 1000 (one HTTP call each). */
  public void logMetrics(String runId, List<MetricPoint> points) {
    for (int from = 0; from < points.size(); from += MAX_METRICS_PER_BATCH) {
      List<Metric> batch = new ArrayList<>();
      for (MetricPoint p :
          points.subList(from, Math.min(points.size(), from + MAX_METRICS_PER_BATCH))) {
        if (!Double.isFinite(p.value())) {
          continue; // MLflow rejects NaN/inf in batches; a diverged loss shows as a gap
        }
        batch.add(
            Metric.newBuilder()
                .setKey(p.key())
                .setValue(p.value())
                .setStep(p.step())
                .setTimestamp(p.timestampMs())
                .build());
      }
      client.logBatch(runId, batch, List.of(), List.of());
    }
  }

  public void setTags(String runId, Map<String, String> tags) {
    List<RunTag> batch = new ArrayList<>();
    tags.forEach((k, v) -> batch.add(RunTag.newBuilder().setKey(k).setValue(v).build()));
    if (!batch.isEmpty()) {
      client.logBatch(runId, List.of(), List.of(), batch);
    }
  }

  public void finish(String runId, RunStatus status) {
    client.setTerminated(runId, status);
  }

  public MlflowClient client() {
    return client;
  }

  /** Writes {@code content} as the artifact {@code path} (relative to the run's artifact root). */
  public void logArtifact(TrackedRun run, String path, byte[] content) {
    String root = run.artifactUri();
    if (root.startsWith("s3://")) {
      store.put(store.keyOf(join(root, path)), content);
    } else if (root.startsWith("mlflow-artifacts:")) {
      rest.putArtifact(join(proxyPath(root), path), content);
    } else {
      throw unsupportedRoot(root);
    }
  }

  /** Writes a local file as the artifact {@code path}. */
  public void logArtifact(TrackedRun run, String path, Path file) {
    String root = run.artifactUri();
    if (root.startsWith("s3://")) {
      store.put(store.keyOf(join(root, path)), file);
    } else if (root.startsWith("mlflow-artifacts:")) {
      rest.putArtifact(join(proxyPath(root), path), file);
    } else {
      throw unsupportedRoot(root);
    }
  }

  /** Writes every file under {@code dir} as artifacts under {@code path}. */
  public void logArtifacts(TrackedRun run, String path, Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
        logArtifact(run, join(path, dir.relativize(file).toString().replace('\\', '/')), file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list artifacts in " + dir, e);
    }
  }

  /** What MLflow itself lists under {@code path} (empty = root) of the run's artifacts. */
  public List<ArtifactFile> listArtifacts(String runId, String path) {
    JsonNode answer =
        rest.get(
            "artifacts/list",
            path.isEmpty() ? Map.of("run_id", runId) : Map.of("run_id", runId, "path", path));
    List<ArtifactFile> out = new ArrayList<>();
    for (JsonNode f : answer.path("files")) {
      out.add(
          new ArtifactFile(
              f.path("path").asText(), f.path("is_dir").asBoolean(), f.path("file_size").asLong()));
    }
    return out;
  }

  @Override
  public void close() {
    client.close();
  }

  private TrackedRun tracked(RunInfo run, boolean created) {
    return new TrackedRun(
        run.getRunId(),
        run.getExperimentId(),
        run.getArtifactUri(),
        runUrl(run.getExperimentId(), run.getRunId()),
        created);
  }

  /**
   * {@code mlflow-artifacts:/1/abc/artifacts} or {@code mlflow-artifacts://host/1/...} → {@code
   * 1/abc/artifacts}
   */
  static String proxyPath(String artifactUri) {
    String rest = artifactUri.substring("mlflow-artifacts:".length());
    if (rest.startsWith("//")) {
      int slash = rest.indexOf('/', 2);
      rest = slash < 0 ? "" : rest.substring(slash);
    }
    while (rest.startsWith("/")) {
      rest = rest.substring(1);
    }
    return rest;
  }

  private static String join(String root, String path) {
    if (path.isEmpty()) {
      return root;
    }
    return root.endsWith("/") ? root + path : root + "/" + path;
  }

  private static IllegalStateException unsupportedRoot(String root) {
    return new IllegalStateException(
        "MLflow artifact root '"
            + root
            + "' is neither s3:// nor mlflow-artifacts:/; start the server with"
            + " --serve-artifacts --artifacts-destination s3://<bucket>/mlflow (./loraflow stack up"
            + " does)");
  }
}
