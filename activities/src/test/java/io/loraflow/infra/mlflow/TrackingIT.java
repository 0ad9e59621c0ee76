package io.loraflow.infra.mlflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.StackSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.api.proto.Service.Metric;
import org.mlflow.api.proto.Service.Run;
import org.mlflow.api.proto.Service.RunStatus;

/** Against the real MLflow (and MinIO) of {@code ./loraflow stack up}. */
class TrackingIT {
  static ObjectStore store;
  static Tracking tracking;
  static final String EXPERIMENT = "it-tracking";

  @TempDir Path tmp;

  @BeforeAll
  static void connect() {
    StackSettings settings =
        StackSettings.load()
            .requireReachable(
                Duration.ofSeconds(2), StackSettings.Server.MINIO, StackSettings.Server.MLFLOW);
    store = ObjectStore.connect(settings);
    tracking = Tracking.connect(settings, store);
  }

  @AfterAll
  static void close() {
    tracking.close();
    store.close();
  }

  @Test
  void oneRunPerWorkflowWithParamsMetricsAndTagsReadBack() {
    String workflowId = "it-wf-" + UUID.randomUUID();
    TrackedRun run =
        tracking.runForWorkflow(
            EXPERIMENT, workflowId, "smoke", Map.of("loraflow.base_model", "tiny"));
    assertTrue(run.created());

    tracking.logParams(run.runId(), Map.of("lora.r", "8", "lr", "2.0E-4"));
    List<MetricPoint> points = new ArrayList<>();
    for (int step = 1; step <= 1500; step++) { // more than one batch of 1000
      points.add(new MetricPoint("train/loss", 3.0 / step, step, 1_700_000_000_000L + step));
    }
    tracking.logMetrics(run.runId(), points);
    tracking.setTags(run.runId(), Map.of("loraflow.phase", "train"));

    // a retried activity finds the same run, also after it was marked failed
    tracking.finish(run.runId(), RunStatus.FAILED);
    TrackedRun again = tracking.runForWorkflow(EXPERIMENT, workflowId, "smoke", Map.of());
    assertFalse(again.created());
    assertEquals(run.runId(), again.runId());
    tracking.logParams(again.runId(), Map.of("lora.r", "8")); // same value again: allowed

    Run back = tracking.client().getRun(run.runId());
    assertEquals(RunStatus.RUNNING, back.getInfo().getStatus());
    Map<String, String> params =
        back.getData().getParamsList().stream()
            .collect(Collectors.toMap(p -> p.getKey(), p -> p.getValue()));
    assertEquals(Map.of("lora.r", "8", "lr", "2.0E-4"), params);
    Map<String, String> tags =
        back.getData().getTagsList().stream()
            .collect(Collectors.toMap(t -> t.getKey(), t -> t.getValue()));
    assertEquals(workflowId, tags.get(Tracking.WORKFLOW_TAG));
    assertEquals("tiny", tags.get("loraflow.base_model"));
    assertEquals("train", tags.get("loraflow.phase"));
    List<Metric> history = tracking.client().getMetricHistory(run.runId(), "train/loss");
    assertEquals(1500, history.size());
    Metric last = history.stream().filter(m -> m.getStep() == 1500).findFirst().orElseThrow();
    assertEquals(3.0 / 1500, last.getValue(), 0.0);
    tracking.finish(run.runId(), RunStatus.FINISHED);
  }

  @Test
  void artifactsAreVisibleThroughMlflowsListApi() throws Exception {
    TrackedRun run =
        tracking.runForWorkflow(EXPERIMENT, "it-wf-" + UUID.randomUUID(), "artifacts", Map.of());
    tracking.logArtifact(
        run, "eval/report.json", "{\"rougeL\":0.5}".getBytes(StandardCharsets.UTF_8));
    Path adapter = Files.createDirectories(tmp.resolve("adapter"));
    Files.writeString(adapter.resolve("adapter_config.json"), "{\"r\":8}");
    Files.write(adapter.resolve("adapter_model.safetensors"), new byte[1234]);
    tracking.logArtifacts(run, "adapter", adapter);

    List<ArtifactFile> root = tracking.listArtifacts(run.runId(), "");
    assertEquals(
        List.of("adapter", "eval"), root.stream().map(ArtifactFile::path).sorted().toList());
    List<ArtifactFile> files = tracking.listArtifacts(run.runId(), "adapter");
    ArtifactFile weights =
        files.stream()
            .filter(f -> f.path().equals("adapter/adapter_model.safetensors"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("not listed: " + files));
    assertEquals(1234, weights.size());
    assertEquals(
        "{\"rougeL\":0.5}",
        new String(
            tracking.rest().getRunArtifact(run.runId(), "eval/report.json"),
            StandardCharsets.UTF_8));
  }
}
