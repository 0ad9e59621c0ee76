package io.loraflow.infra.mlflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.StackSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Against the real MLflow registry of {@code ./loraflow stack up}. */
class ModelRegistryIT {
  static ObjectStore store;
  static Tracking tracking;
  static ModelRegistry registry;

  @BeforeAll
  static void connect() {
    StackSettings settings =
        StackSettings.load()
            .requireReachable(
                Duration.ofSeconds(2), StackSettings.Server.MINIO, StackSettings.Server.MLFLOW);
    store = ObjectStore.connect(settings);
    tracking = Tracking.connect(settings, store);
    registry = new ModelRegistry(tracking.rest());
  }

  @AfterAll
  static void close() {
    tracking.close();
    store.close();
  }

  private Registration registration(String model, String workflowId, double evalLoss) {
    TrackedRun run = tracking.runForWorkflow("it-registry", workflowId, workflowId, Map.of());
    return new Registration(
        model,
        "s3://loraflow/runs/" + workflowId + "/adapter",
        run.runId(),
        workflowId,
        Map.of("loraflow.dataset_sha256", "abc123", "loraflow.base_model", "tiny-llama"),
        "eval_loss",
        evalLoss,
        false);
  }

  @Test
  void versionsGetCandidateAndTheBetterOneBecomesChampion() {
    String model = "it-adapter-" + UUID.randomUUID().toString().substring(0, 8);
    String wf1 = "it-reg-" + UUID.randomUUID();
    String wf2 = "it-reg-" + UUID.randomUUID();
    String wf3 = "it-reg-" + UUID.randomUUID();

    RegisteredVersion first = registry.register(registration(model, wf1, 2.0));
    assertTrue(first.created());
    assertTrue(first.champion(), "the first version is champion: there is nothing to beat");
    assertEquals("1", first.version().version());
    assertEquals("s3://loraflow/runs/" + wf1 + "/adapter", first.version().source());
    assertEquals("abc123", first.version().tags().get("loraflow.dataset_sha256"));
    assertEquals(wf1, first.version().tags().get(Tracking.WORKFLOW_TAG));
    assertTrue(first.version().aliases().containsAll(List.of("candidate", "champion")));

    // a retry of the same registration finds version 1 again
    RegisteredVersion retried = registry.register(registration(model, wf1, 2.0));
    assertFalse(retried.created());
    assertEquals("1", retried.version().version());

    // worse eval loss: candidate only
    RegisteredVersion worse = registry.register(registration(model, wf2, 2.5));
    assertEquals("2", worse.version().version());
    assertFalse(worse.champion());
    assertEquals(List.of("candidate"), worse.version().aliases());
    assertEquals("1", registry.aliasTarget(model, "champion").orElseThrow().version());

    // better eval loss: champion, and the old champion is reported
    RegisteredVersion better = registry.register(registration(model, wf3, 1.5));
    assertEquals("3", better.version().version());
    assertTrue(better.champion());
    assertEquals(Optional.of("1"), better.previousChampion());
    assertEquals("3", registry.aliasTarget(model, "champion").orElseThrow().version());
    assertEquals("3", registry.aliasTarget(model, "candidate").orElseThrow().version());
    assertEquals(Optional.empty(), registry.aliasTarget(model, "no-such-alias"));
  }

  @Test
  void adapterRegistrySeamFindsVersionsByTag() throws Exception {
    String model = "it-seam-" + UUID.randomUUID().toString().substring(0, 8);
    String wf = "it-seam-" + UUID.randomUUID();
    assertEquals(Optional.empty(), registry.findVersionByTag(model, Tracking.WORKFLOW_TAG, wf));
    var created =
        registry.createVersion(
            model,
            "s3://loraflow/runs/" + wf + "/adapter/",
            null,
            Map.of(Tracking.WORKFLOW_TAG, wf));
    assertEquals("1", created.version());
    assertEquals(Optional.of(created), registry.findVersionByTag(model, Tracking.WORKFLOW_TAG, wf));
    registry.setAlias(model, "candidate", "1");
    assertEquals("1", registry.versionByAlias(model, "candidate").orElseThrow().version());
  }
}
