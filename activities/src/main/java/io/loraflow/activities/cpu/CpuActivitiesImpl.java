package io.loraflow.activities.cpu;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.activities.dataset.DatasetException;
import io.loraflow.activities.dataset.DatasetPreparer;
import io.loraflow.activities.dataset.PreparedDataset;
import io.loraflow.activities.dataset.QaPair;
import io.loraflow.activities.prompts.FormattedSplits;
import io.loraflow.activities.prompts.PromptFormatter;
import io.loraflow.activities.prompts.PromptTemplate;
import io.loraflow.activities.prompts.TrainingTextGuard;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.CpuActivities;
import io.loraflow.workflows.DatasetRef;
import io.loraflow.workflows.DatasetRequest;
import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.LinksRequest;
import io.loraflow.workflows.PromptsRef;
import io.loraflow.workflows.PromptsRequest;
import io.loraflow.workflows.RegistrationRequest;
import io.loraflow.workflows.RegistrationResult;
import io.loraflow.workflows.RunLinks;
import io.loraflow.workflows.StorageKeys;
import io.loraflow.workflows.TrackingFinish;
import io.loraflow.workflows.TrackingRun;
import io.loraflow.workflows.TrackingStart;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CPU activities as thin adapters: the work is in {@link DatasetPreparer}, {@link
 * PromptFormatter} and {@link AdapterRegistrar}; storage, tracking and the registry come in through
 * the constructor. Every method is idempotent.
 */
public class CpuActivitiesImpl implements CpuActivities {

  /** Tag that finds a workflow's MLflow run and registered version again on retries. */
  public static final String WORKFLOW_TAG = AdapterRegistrar.WORKFLOW_TAG;

  private static final Logger log = LoggerFactory.getLogger(CpuActivitiesImpl.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String JSONL = "application/x-ndjson";

  private final ArtifactStore store;
  private final DatasetPreparer datasets;
  private final RunTracker tracker;
  private final AdapterRegistry registry;
  private final LinkConfig links;
  private final TrainingTextGuard.Mode markers;

  public CpuActivitiesImpl(
      ArtifactStore store,
      DatasetPreparer datasets,
      RunTracker tracker,
      AdapterRegistry registry,
      LinkConfig links) {
    this(store, datasets, tracker, registry, links, TrainingTextGuard.Mode.ESCAPE);
  }

  /**
   * @param markers what formatPrompts does with role markers and special tokens inside training
   *     text (escape them, or reject the dataset naming the record)
   */
  public CpuActivitiesImpl(
      ArtifactStore store,
      DatasetPreparer datasets,
      RunTracker tracker,
      AdapterRegistry registry,
      LinkConfig links,
      TrainingTextGuard.Mode markers) {
    this.markers = markers;
    this.store = store;
    this.datasets = datasets;
    this.tracker = tracker;
    this.registry = registry;
    this.links = links;
  }

  @Override
  public DatasetRef prepareDataset(DatasetRequest request) {
    PreparedDataset d;
    try {
      d = datasets.prepare(request.uri(), request.format() == null ? "auto" : request.format());
    } catch (DatasetException e) {
      throw ActivityFailures.of(e);
    }
    String key = StorageKeys.datasetData(d.sha256());
    try {
      if (store.exists(key)) {
        log.info("dataset {} already stored at {}; not rewritten", request.uri(), key);
      } else {
        // stats first, data last: data.jsonl present means the entry is complete
        store.put(
            StorageKeys.datasetStats(d.sha256()),
            JSON.writeValueAsBytes(d.stats()),
            "application/json");
        store.put(key, d.jsonl(), JSONL);
        log.info("dataset {} stored at {} ({} pairs)", request.uri(), key, d.pairs().size());
      }
    } catch (IOException e) {
      throw ActivityFailures.service("storing dataset " + key, e);
    }
    return new DatasetRef(d.sha256(), key, d.pairs().size(), d.stats());
  }

  @Override
  public PromptsRef formatPrompts(PromptsRequest request) {
    BaseModelRef model = request.model();
    PromptTemplate template;
    try {
      template = PromptTemplate.resolve(request.template(), model.chatTemplate());
    } catch (IllegalArgumentException e) {
      throw ActivityFailures.badInput(FailureTypes.INVALID_RUN_SPEC, e.getMessage());
    }
    Path dir = null;
    try {
      dir = Files.createTempDirectory("loraflow-prompts-");
      Path tokenizer = dir.resolve("tokenizer.json");
      try (InputStream in = store.get(model.tokenizerKey())) {
        Files.copy(in, tokenizer);
      }
      List<QaPair> pairs;
      try (InputStream in = store.get(request.dataset().key())) {
        pairs = DatasetPreparer.fromJsonl(in.readAllBytes());
      }
      FormattedSplits splits;
      try (PromptFormatter formatter =
          PromptFormatter.open(
              tokenizer,
              template,
              eosId(model, template, tokenizer),
              request.maxSeqLen(),
              markers)) {
        splits = formatter.format(pairs, request.evalFraction(), request.seed());
        List<String> escaped = formatter.guard().escapedRecords();
        if (!escaped.isEmpty()) {
          log.warn(
              "run {}: escaped role markers or special tokens in {} field(s) of the training text"
                  + " (first: {}); set {}=reject to refuse such datasets",
              request.runId(),
              escaped.size(),
              escaped.subList(0, Math.min(5, escaped.size())),
              TrainingTextGuard.ENV);
        }
      } catch (IllegalArgumentException e) {
        throw ActivityFailures.badInput(FailureTypes.INVALID_DATASET, e.getMessage());
      }
      String run = request.runId();
      store.put(StorageKeys.promptsTrain(run), tokenized(splits.train()), JSONL);
      store.put(StorageKeys.promptsEval(run), tokenized(splits.eval()), JSONL);
      ByteArrayOutputStream prompts = new ByteArrayOutputStream();
      PromptFormatter.writeEvalPrompts(splits.evalPrompts(), prompts);
      store.put(StorageKeys.promptsEvalPrompts(run), prompts.toByteArray(), JSONL);
      ByteArrayOutputStream seen = new ByteArrayOutputStream();
      PromptFormatter.writeEvalPrompts(splits.trainPrompts(), seen);
      store.put(StorageKeys.promptsTrainPrompts(run), seen.toByteArray(), JSONL);
      store.put(
          StorageKeys.promptsStats(run),
          JSON.writeValueAsBytes(splits.stats()),
          "application/json");
      return new PromptsRef(
          StorageKeys.promptsTrain(run),
          StorageKeys.promptsEval(run),
          StorageKeys.promptsEvalPrompts(run),
          StorageKeys.promptsStats(run),
          model.tokenizerKey(),
          splits.stats(),
          StorageKeys.promptsTrainPrompts(run));
    } catch (IOException e) {
      throw ActivityFailures.service("formatting prompts of run " + request.runId(), e);
    } finally {
      deleteQuietly(dir);
    }
  }

  static long eosId(BaseModelRef model, PromptTemplate template, Path tokenizer)
      throws IOException {
    long id = PromptFormatter.answerEosId(tokenizer, template, model.eosTokenIds());
    if (id < 0) {
      throw ActivityFailures.badInput(
          FailureTypes.INVALID_BASE_MODEL,
          "base model "
              + model.baseModel()
              + " names no EOS token and its tokenizer has none of "
              + PromptFormatter.WELL_KNOWN_EOS);
    }
    return id;
  }

  private static byte[] tokenized(List<io.loraflow.activities.prompts.TokenizedExample> examples)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PromptFormatter.writeTokenized(examples, out);
    return out.toByteArray();
  }

  @Override
  public TrackingRun openTrackingRun(TrackingStart request) {
    try {
      Optional<TrackingRun> existing =
          tracker.findRunByTag(request.experimentName(), WORKFLOW_TAG, request.workflowId());
      Map<String, String> tags = new LinkedHashMap<>(request.tags());
      tags.put(WORKFLOW_TAG, request.workflowId());
      TrackingRun run =
          existing.isPresent()
              ? existing.get()
              : tracker.createRun(request.experimentName(), request.workflowId(), tags);
      tracker.setTags(run.mlflowRunId(), tags);
      tracker.logParams(run.mlflowRunId(), request.params());
      return run;
    } catch (IOException e) {
      throw ActivityFailures.service("opening the MLflow run of " + request.workflowId(), e);
    }
  }

  @Override
  public void closeTrackingRun(TrackingFinish request) {
    try {
      if (!request.metrics().isEmpty()) {
        tracker.logMetrics(request.mlflowRunId(), request.metrics(), 0);
      }
      if (!request.tags().isEmpty()) {
        tracker.setTags(request.mlflowRunId(), request.tags());
      }
      tracker.setStatus(request.mlflowRunId(), request.status());
    } catch (IOException e) {
      throw ActivityFailures.service("closing MLflow run " + request.mlflowRunId(), e);
    }
  }

  @Override
  public RegistrationResult registerAdapter(RegistrationRequest request) {
    String name = request.modelName();
    try {
      return new AdapterRegistrar(registry)
          .register(
              request,
              "s3://" + links.bucket() + "/" + request.adapterKey(),
              evalSetSha256(scoredRunId(request)));
    } catch (IOException e) {
      throw ActivityFailures.service("registering " + name, e);
    }
  }

  /**
   * The run whose held-out split scored the adapter: the one whose prefix holds the adapter ({@code
   * runs/<run id>/adapter/}), else the registering workflow's run. They differ for a sweep: it
   * registers under its own id the adapter of its best child, whose split is under the child's id.
   */
  static String scoredRunId(RegistrationRequest request) {
    return StorageKeys.adapterRunId(request.adapterKey())
        .orElseGet(() -> io.loraflow.workflows.WorkflowIds.runIdOf(request.workflowId()));
  }

  /**
   * sha256 of the run's tokenized held-out split (written by formatPrompts), or "" when it is not
   * in the store: the promotion policy compares eval losses only between versions with equal sets.
   */
  private String evalSetSha256(String runId) throws IOException {
    String key = StorageKeys.promptsEval(runId);
    if (!store.exists(key)) {
      log.warn("held-out split {} not found; the version cannot be compared with a champion", key);
      return "";
    }
    try (InputStream in = store.get(key)) {
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[64 << 10];
      for (int n; (n = in.read(buf)) >= 0; ) {
        sha.update(buf, 0, n);
      }
      return java.util.HexFormat.of().formatHex(sha.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JRE", e);
    }
  }

  @Override
  public RunLinks runLinks(LinksRequest request) {
    return new RunLinks(
        links.workflowUrl(request.workflowId(), request.workflowRunId()),
        links.mlflowRunUrl(request.experimentId(), request.mlflowRunId()),
        links.consoleUrl(
            StorageKeys.runPrefix(
                io.loraflow.workflows.WorkflowIds.runIdOf(request.workflowId()))));
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      log.warn("could not delete {}", dir, e);
    }
  }
}
