package io.loraflow.activities.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.activities.dataset.DatasetConfig;
import io.loraflow.activities.dataset.DatasetPreparer;
import io.loraflow.activities.prompts.PromptFormatter;
import io.loraflow.activities.prompts.SmolTokenizerFixture;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.DatasetRef;
import io.loraflow.workflows.DatasetRequest;
import io.loraflow.workflows.EvalResult;
import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.LinksRequest;
import io.loraflow.workflows.PromptsRef;
import io.loraflow.workflows.PromptsRequest;
import io.loraflow.workflows.RegistrationRequest;
import io.loraflow.workflows.RegistrationResult;
import io.loraflow.workflows.RunLinks;
import io.loraflow.workflows.Scores;
import io.loraflow.workflows.StorageKeys;
import io.loraflow.workflows.TrackingFinish;
import io.loraflow.workflows.TrackingRun;
import io.loraflow.workflows.TrackingStart;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuActivitiesImplTest {

  @TempDir Path tmp;
  private Path data;
  private CountingStore store;
  private InMemoryTracking tracking;
  private CpuActivitiesImpl cpu;

  /** A real local store that records every write. */
  static final class CountingStore implements ArtifactStore {
    final LocalDirArtifactStore inner;
    final List<String> puts = new ArrayList<>();

    CountingStore(Path root) {
      inner = new LocalDirArtifactStore(root);
    }

    @Override
    public boolean exists(String key) {
      return inner.exists(key);
    }

    @Override
    public InputStream get(String key) throws IOException {
      return inner.get(key);
    }

    @Override
    public void put(String key, Path file, String contentType) throws IOException {
      puts.add(key);
      inner.put(key, file, contentType);
    }

    @Override
    public void put(String key, byte[] bytes, String contentType) throws IOException {
      puts.add(key);
      inner.put(key, bytes, contentType);
    }

    String text(String key) throws IOException {
      try (InputStream in = inner.get(key)) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    }
  }

  @BeforeEach
  void setUp() throws IOException {
    data = Files.createDirectories(tmp.resolve("data"));
    store = new CountingStore(tmp.resolve("bucket"));
    tracking = new InMemoryTracking();
    cpu =
        new CpuActivitiesImpl(
            store,
            new DatasetPreparer(DatasetConfig.defaults(List.of(data)), null),
            tracking,
            tracking,
            new LinkConfig(
                "http://localhost:8233/",
                null,
                "http://localhost:5000",
                "http://localhost:9001",
                null));
  }

  @Test
  void datasetIsStoredOnceByContentHashAndBadInputStoresNothing() throws IOException {
    Files.writeString(
        data.resolve("a.json"), "{\"questions\":[{\"question\":\"Q\",\"answer\":\"A\"}]}");
    Files.writeString(data.resolve("b.csv"), "question,answer\nQ,A\n");
    DatasetRef a = cpu.prepareDataset(new DatasetRequest("file:" + data + "/a.json", "auto", "r1"));
    assertEquals(StorageKeys.datasetData(a.sha256()), a.key());
    assertEquals("{\"question\":\"Q\",\"answer\":\"A\"}\n", store.text(a.key()));
    assertEquals(List.of(StorageKeys.datasetStats(a.sha256()), a.key()), store.puts);

    DatasetRef b = cpu.prepareDataset(new DatasetRequest("file:" + data + "/b.csv", "auto", "r2"));
    assertEquals(a.sha256(), b.sha256());
    assertEquals(2, store.puts.size(), "the same content must not be written again");
    assertEquals("csv", b.stats().format());

    Files.writeString(data.resolve("bad.json"), "{\"questions\":[{\"question\":\"Q\"}]}");
    var e =
        assertThrows(
            ApplicationFailure.class,
            () ->
                cpu.prepareDataset(new DatasetRequest("file:" + data + "/bad.json", "auto", "r3")));
    assertEquals(FailureTypes.INVALID_DATASET, e.getType());
    assertTrue(e.isNonRetryable());
    assertTrue(e.getOriginalMessage().contains("record 1 (line 1): missing field \"answer\""));
    var escape =
        assertThrows(
            ApplicationFailure.class,
            () -> cpu.prepareDataset(new DatasetRequest("file:/etc/passwd", "auto", "r4")));
    assertEquals(FailureTypes.DATASET_NOT_ALLOWED, escape.getType());
    assertEquals(2, store.puts.size());
    assertEquals("{\"question\":\"Q\",\"answer\":\"A\"}\n", store.text(a.key()));
  }

  private BaseModelRef smolModel(String chatTemplate) throws IOException {
    Path tok = SmolTokenizerFixture.tokenizerJson(Files.createTempDirectory(tmp, "tok"));
    String key = StorageKeys.modelTokenizer("smollm2-135m-instruct");
    store.inner.put(key, tok, "application/json");
    return new BaseModelRef(
        "smollm2-135m-instruct",
        "smollm2-135m-instruct",
        "models/smollm2-135m-instruct/model.gguf",
        key,
        chatTemplate,
        List.of(2),
        "llama");
  }

  @Test
  void promptsOfTheSampleFaqWithSmolLm2sTokenizer() throws IOException {
    DatasetRef faq =
        cpu.prepareDataset(new DatasetRequest("builtin:ecommerce-faq", "auto", "run-1"));
    BaseModelRef model = smolModel(null);
    PromptsRef p =
        cpu.formatPrompts(new PromptsRequest("run-1", faq, model, "default", 512, 0.1, 42));
    assertEquals("runs/run-1/prompts/train.jsonl", p.trainKey());
    assertEquals(faq.count(), p.stats().trainExamples() + p.stats().evalExamples());
    assertEquals(10, p.stats().evalExamples());
    assertEquals(0, p.stats().truncated());
    var train = PromptFormatter.readTokenized(store.text(p.trainKey()));
    assertEquals(p.stats().trainExamples(), train.size());
    for (var ex : train) {
      assertEquals(2, ex.inputIds()[ex.inputIds().length - 1]); // EOS ends every example
      assertEquals(-100, ex.labels()[0]);
    }
    String prompts = store.text(p.evalPromptsKey());
    assertEquals(10, prompts.lines().count());
    assertTrue(prompts.lines().allMatch(l -> l.contains("\"prompt\":\"<human>: ")), prompts);
    assertTrue(store.exists(p.statsKey()));

    // ChatML: the turn end <|im_end|> closes the answer
    String chatml = SmolTokenizerFixture.reference().get("chat_template_source").asText();
    BaseModelRef chatModel = smolModel(chatml);
    PromptsRef c =
        cpu.formatPrompts(new PromptsRequest("run-2", faq, chatModel, "chat", 512, 0.1, 42));
    assertEquals("chatml", c.stats().template());
    assertTrue(store.text(c.evalPromptsKey()).contains("<|im_start|>assistant\\n\""));

    var e =
        assertThrows(
            ApplicationFailure.class,
            () -> cpu.formatPrompts(new PromptsRequest("run-3", faq, model, "chat", 512, 0.1, 42)));
    assertEquals(FailureTypes.INVALID_RUN_SPEC, e.getType());
    assertTrue(e.getOriginalMessage().contains("has none"), e.getOriginalMessage());
  }

  @Test
  void trackingRunIsFoundAgainByWorkflowId() {
    var start =
        new TrackingStart(
            "wf-1", "loraflow-smol", Map.of("lora_r", "8"), Map.of("loraflow.base_model", "smol"));
    TrackingRun first = cpu.openTrackingRun(start);
    TrackingRun again = cpu.openTrackingRun(start);
    assertEquals(first.mlflowRunId(), again.mlflowRunId());
    assertEquals(1, tracking.runs.size());
    assertEquals("8", tracking.runs.get(0).params().get("lora_r"));
    cpu.closeTrackingRun(
        new TrackingFinish(
            first.mlflowRunId(), "FINISHED", Map.of("eval_loss_adapter", 1.2), Map.of()));
    assertEquals("FINISHED", tracking.runs.get(0).status()[0]);
    assertEquals(1.2, tracking.runs.get(0).metrics().get("eval_loss_adapter"));
  }

  private static EvalResult eval(double base, double adapter) {
    return new EvalResult(
        base,
        adapter,
        Math.exp(base),
        Math.exp(adapter),
        new Scores(0.1, 0.1, 0),
        new Scores(0.5, 0.5, 0.1),
        10,
        "r.json",
        "r.html");
  }

  private RegistrationResult register(String workflowId, boolean promote, EvalResult eval) {
    return register(workflowId, promote, eval, "held-out split A");
  }

  /** Registers after storing the run's tokenized held-out split (its sha256 is the eval set). */
  private RegistrationResult register(
      String workflowId, boolean promote, EvalResult eval, String evalSplit) {
    try {
      store.put(
          StorageKeys.promptsEval(workflowId),
          evalSplit.getBytes(StandardCharsets.UTF_8),
          "application/x-ndjson");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return cpu.registerAdapter(
        new RegistrationRequest(
            "loraflow-smol",
            promote,
            workflowId,
            "mlrun",
            "smol",
            "f".repeat(64),
            "runs/" + workflowId + "/adapter/",
            eval));
  }

  @Test
  void aSweepsBestIsScoredOnItsChildsHeldOutSplitAndCanBeatTheChampion() throws IOException {
    RegistrationResult champion = register("wf-1", true, eval(2.0, 1.5));
    // a sweep registers under its own id the adapter of its best child; the split is the child's
    store.put(
        StorageKeys.promptsEval("sweep-9-c1"),
        "held-out split A".getBytes(StandardCharsets.UTF_8),
        "application/x-ndjson");
    RegistrationResult sweepBest =
        cpu.registerAdapter(
            new RegistrationRequest(
                "loraflow-smol",
                true,
                "sweep-9",
                "mlrun-c1",
                "smol",
                "f".repeat(64),
                StorageKeys.adapterPrefix("sweep-9-c1"),
                eval(2.0, 1.2)));
    assertEquals(champion.evalSetSha256(), sweepBest.evalSetSha256());
    assertTrue(sweepBest.promoted(), sweepBest.decision());
    assertTrue(sweepBest.decision().contains("beats champion version 1's"), sweepBest.decision());
    assertEquals("2", tracking.aliases.get("loraflow-smol/champion"));
  }

  @Test
  void registrationIsIdempotentAndPromotesOnlyBetterAdapters() {
    RegistrationResult v1 = register("wf-1", true, eval(2.0, 1.5));
    assertEquals("1", v1.version());
    assertEquals(List.of("candidate", "champion"), v1.aliases());
    assertEquals(v1, register("wf-1", true, eval(2.0, 1.5)), "a retry registers nothing new");
    assertEquals(1, tracking.versions.get("loraflow-smol").size());
    assertEquals(
        "s3://loraflow/runs/wf-1/adapter/", tracking.versions.get("loraflow-smol").get(0).source());
    assertEquals(
        "1.5", tracking.versions.get("loraflow-smol").get(0).tags().get("loraflow.eval_loss"));

    RegistrationResult worse = register("wf-2", true, eval(2.0, 1.7));
    assertEquals("2", worse.version());
    assertEquals(List.of("candidate"), worse.aliases());
    assertFalse(worse.promoted());

    RegistrationResult better = register("wf-3", true, eval(2.0, 1.2));
    assertTrue(better.promoted());
    assertEquals("3", tracking.aliases.get("loraflow-smol/champion"));
    assertEquals("3", tracking.aliases.get("loraflow-smol/candidate"));

    RegistrationResult notAsked = register("wf-4", false, eval(2.0, 0.5));
    assertFalse(notAsked.promoted());
    RegistrationResult best = register("wf-5", true, eval(1.0, 0.9));
    assertTrue(best.promoted());
    assertEquals("5", tracking.aliases.get("loraflow-smol/champion"));
    RegistrationResult notBeatingBase = register("wf-6", true, eval(0.1, 0.2));
    assertFalse(notBeatingBase.promoted());
    assertEquals("5", tracking.aliases.get("loraflow-smol/champion"));
    assertTrue(notBeatingBase.decision().contains("does not beat the base model"));
    assertTrue(notAsked.decision().contains("registry.promote is false"));
    assertTrue(best.decision().contains("beats champion version 3's 1.2000"), best.decision());
    assertEquals(64, best.evalSetSha256().length());
    assertEquals(
        best.decision(),
        tracking.versions.get("loraflow-smol").get(4).tags().get("loraflow.promotion"));

    // a far lower loss on another held-out set is not comparable: the champion stays
    RegistrationResult otherSet = register("wf-7", true, eval(1.0, 0.1), "held-out split B");
    assertFalse(otherSet.promoted());
    assertTrue(otherSet.decision().contains("not comparable"), otherSet.decision());
    assertEquals("5", tracking.aliases.get("loraflow-smol/champion"));
  }

  @Test
  void links() {
    RunLinks l = cpu.runLinks(new LinksRequest("finetune-x", "abc-123", "mlrun", "7"));
    assertEquals(
        "http://localhost:8233/namespaces/default/workflows/finetune-x/abc-123/history",
        l.temporalUi());
    assertEquals("http://localhost:5000/#/experiments/7/runs/mlrun", l.mlflowRun());
    assertEquals(
        "http://localhost:9001/browser/loraflow/cnVucy9maW5ldHVuZS14Lw==", l.minioConsole());
  }
}
