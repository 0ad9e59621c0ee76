package io.loraflow.infra.mlflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.activities.cpu.AdapterRegistrar;
import io.loraflow.activities.cpu.AdapterRegistry.ModelVersion;
import io.loraflow.activities.cpu.PromotionPolicy;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.StackSettings;
import io.loraflow.workflows.EvalResult;
import io.loraflow.workflows.RegistrationRequest;
import io.loraflow.workflows.RegistrationResult;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.Scores;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pipeline's registration path (registerAdapter -> {@link AdapterRegistrar} -> {@link
 * PromotionPolicy} over the one MLflow client {@link ModelRegistry}) against the real MLflow
 * registry of {@code ./loraflow stack up}.
 */
class ModelRegistryIT {
  static ObjectStore store;
  static Tracking tracking;
  static ModelRegistry registry;
  static AdapterRegistrar registrar;

  static final String SET_A = "a".repeat(64);
  static final String SET_B = "b".repeat(64);

  @BeforeAll
  static void connect() {
    StackSettings settings =
        StackSettings.load()
            .requireReachable(
                Duration.ofSeconds(2), StackSettings.Server.MINIO, StackSettings.Server.MLFLOW);
    store = ObjectStore.connect(settings);
    tracking = Tracking.connect(settings, store);
    registry = new ModelRegistry(tracking.rest());
    registrar = new AdapterRegistrar(registry);
  }

  @AfterAll
  static void close() {
    tracking.close();
    store.close();
  }

  private static EvalResult eval(double base, double adapter) {
    return new EvalResult(
        base,
        adapter,
        Math.exp(base),
        Math.exp(adapter),
        new Scores(0.1, 0.1, 0),
        new Scores(0.4, 0.4, 0.1),
        8,
        "r.json",
        "r.html");
  }

  private RegistrationResult register(
      String model, String workflowId, double base, double adapter, String evalSet)
      throws Exception {
    TrackedRun run = tracking.runForWorkflow("it-registry", workflowId, workflowId, Map.of());
    RegistrationRequest r =
        new RegistrationRequest(
            model,
            true,
            workflowId,
            run.runId(),
            "tiny-llama",
            "abc123",
            "runs/" + workflowId + "/adapter/",
            eval(base, adapter));
    return registrar.register(r, "s3://loraflow/runs/" + workflowId + "/adapter/", evalSet);
  }

  private static String wf() {
    return "it-reg-" + UUID.randomUUID();
  }

  @Test
  void versionsGetCandidateAndOnlyABetterOneOnTheSameHeldOutSetBecomesChampion() throws Exception {
    String model = "it-adapter-" + UUID.randomUUID().toString().substring(0, 8);
    String wf1 = wf();
    RegistrationResult first = register(model, wf1, 2.2, 2.0, SET_A);
    assertTrue(first.promoted(), "the first version is champion: " + first.decision());
    assertTrue(first.decision().startsWith("promoted: first champion"), first.decision());
    assertEquals("1", first.version());
    ModelVersion v1 = registry.version(model, "1").orElseThrow();
    assertEquals("s3://loraflow/runs/" + wf1 + "/adapter/", v1.source());
    assertEquals("abc123", v1.tags().get("loraflow.dataset_sha256"));
    assertEquals(wf1, v1.tags().get(AdapterRegistrar.WORKFLOW_TAG));
    assertEquals(SET_A, v1.tags().get(PromotionPolicy.EVAL_SET_TAG));
    assertEquals(first.decision(), v1.tags().get(AdapterRegistrar.DECISION_TAG));
    assertTrue(v1.aliases().containsAll(List.of("candidate", "champion")), v1.aliases().toString());

    // a retry of the same registration finds version 1 again, with the same decision
    RegistrationResult retried = register(model, wf1, 2.2, 2.0, SET_A);
    assertEquals("1", retried.version());
    assertTrue(retried.promoted());
    assertEquals(first.decision(), retried.decision());
    assertEquals(1, registry.versions(model, 100).size());

    // worse eval loss on the same set: candidate only, and the decision says why
    RegistrationResult worse = register(model, wf(), 2.2, 2.5, SET_A);
    assertEquals("2", worse.version());
    assertFalse(worse.promoted());
    assertEquals(List.of("candidate"), worse.aliases());
    assertTrue(worse.decision().contains("does not beat the base model"), worse.decision());

    RegistrationResult worseThanChampion = register(model, wf(), 2.2, 2.1, SET_A);
    assertFalse(worseThanChampion.promoted());
    assertTrue(
        worseThanChampion.decision().contains("does not beat champion version 1's 2.0000"),
        worseThanChampion.decision());

    // much lower loss, but on another held-out set: not comparable, the champion stays
    RegistrationResult otherSet = register(model, wf(), 1.0, 0.5, SET_B);
    assertFalse(otherSet.promoted());
    assertTrue(otherSet.decision().contains("not comparable"), otherSet.decision());
    assertEquals("1", registry.versionByAlias(model, "champion").orElseThrow().version());

    // better on the same set: champion
    RegistrationResult better = register(model, wf(), 2.2, 1.5, SET_A);
    assertEquals("5", better.version());
    assertTrue(better.promoted(), better.decision());
    assertTrue(better.decision().contains("beats champion version 1's 2.0000"), better.decision());
    assertEquals("5", registry.versionByAlias(model, "champion").orElseThrow().version());
    assertEquals("5", registry.versionByAlias(model, "candidate").orElseThrow().version());
    assertEquals(Optional.empty(), registry.versionByAlias(model, "no-such-alias"));
    assertEquals(
        List.of("5", "4", "3", "2", "1"),
        registry.versions(model, 100).stream().map(ModelVersion::version).toList());
    var listed = registry.models(model, 10);
    assertEquals(1, listed.size());
    assertEquals("5", listed.get(0).aliases().get("champion"));
    assertEquals("5", listed.get(0).latestVersion());
  }

  @Test
  void twoDatasetsOnOneBaseModelEachGetTheirOwnChampion() throws Exception {
    String stamp = UUID.randomUUID().toString().substring(0, 8);
    String faq = RunSpec.of("s3://it/" + stamp + "/faq.jsonl", "tiny-llama").registeredModelName();
    String legal =
        RunSpec.of("s3://it/" + stamp + "/legal.jsonl", "tiny-llama").registeredModelName();
    assertFalse(faq.equals(legal));
    assertTrue(register(faq, wf(), 2.0, 1.2, SET_A).promoted());
    // the second domain's adapter has a higher loss than the first's, on its own set: it is still
    // the champion of its own lineage (before, one model per base compared 1.6 with 1.2 and lost)
    RegistrationResult legalFirst = register(legal, wf(), 2.5, 1.6, SET_B);
    assertTrue(legalFirst.promoted(), legalFirst.decision());
    RegistrationResult legalBetter = register(legal, wf(), 2.5, 1.4, SET_B);
    assertTrue(legalBetter.promoted(), legalBetter.decision());
    assertEquals("1", registry.versionByAlias(faq, "champion").orElseThrow().version());
    assertEquals("2", registry.versionByAlias(legal, "champion").orElseThrow().version());
  }

  @Test
  void adapterRegistrySeamFindsVersionsByTag() throws Exception {
    String model = "it-seam-" + UUID.randomUUID().toString().substring(0, 8);
    String wf = "it-seam-" + UUID.randomUUID();
    assertEquals(
        Optional.empty(), registry.findVersionByTag(model, AdapterRegistrar.WORKFLOW_TAG, wf));
    var created =
        registry.createVersion(
            model,
            "s3://loraflow/runs/" + wf + "/adapter/",
            null,
            Map.of(AdapterRegistrar.WORKFLOW_TAG, wf));
    assertEquals("1", created.version());
    assertEquals(
        Optional.of(created), registry.findVersionByTag(model, AdapterRegistrar.WORKFLOW_TAG, wf));
    registry.setAlias(model, "candidate", "1");
    assertEquals("1", registry.versionByAlias(model, "candidate").orElseThrow().version());
    registry.setVersionTag(model, "1", "loraflow.note", "x");
    assertEquals("x", registry.version(model, "1").orElseThrow().tags().get("loraflow.note"));
    assertEquals(Optional.empty(), registry.version(model, "99"));
  }
}
