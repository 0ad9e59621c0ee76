package io.loraflow.activities.cpu;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.activities.cpu.AdapterRegistry.ModelVersion;
import io.loraflow.activities.dataset.DatasetException;
import io.loraflow.activities.dataset.DatasetPreparer;
import io.loraflow.activities.dataset.PreparedDataset;
import io.loraflow.activities.dataset.QaPair;
import io.loraflow.activities.prompts.FormattedSplits;
import io.loraflow.activities.prompts.PromptFormatter;
import io.loraflow.activities.prompts.PromptTemplate;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.CpuActivities;
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
import java.util.ArrayList;
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
 * PromptFormatter} and {@link PromotionPolicy}; storage, tracking and the registry come in through
 * the constructor. Every method is idempotent.
 */
public class CpuActivitiesImpl implements CpuActivities {

  /** Tag that finds a workflow's MLflow run and registered version again on retries. */
  public static final String WORKFLOW_TAG = "loraflow.workflow_id";

  public static final String CANDIDATE = "candidate";
  public static final String CHAMPION = "champion";

  private static final Logger log = LoggerFactory.getLogger(CpuActivitiesImpl.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String JSONL = "application/x-ndjson";

  private final ArtifactStore store;
  private final DatasetPreparer datasets;
  private final RunTracker tracker;
  private final AdapterRegistry registry;
  private final LinkConfig links;

  public CpuActivitiesImpl(
      ArtifactStore store,
      DatasetPreparer datasets,
      RunTracker tracker,
      AdapterRegistry registry,
      LinkConfig links) {
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
              tokenizer, template, eosId(model, template, tokenizer), request.maxSeqLen())) {
        splits = formatter.format(pairs, request.evalFraction(), request.seed());
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
      Optional<ModelVersion> existing =
          registry.findVersionByTag(name, WORKFLOW_TAG, request.workflowId());
      ModelVersion version =
          existing.isPresent()
              ? existing.get()
              : registry.createVersion(
                  name,
                  "s3://" + links.bucket() + "/" + request.adapterKey(),
                  request.mlflowRunId(),
                  versionTags(request));
      registry.setAlias(name, CANDIDATE, version.version());
      List<String> aliases = new ArrayList<>(List.of(CANDIDATE));
      boolean promoted = false;
      if (request.promote()) {
        Optional<ModelVersion> champion = registry.versionByAlias(name, CHAMPION);
        if (champion.isPresent() && champion.get().version().equals(version.version())) {
          promoted = true; // a retry after the alias moved
        } else {
          PromotionPolicy.Decision d = PromotionPolicy.decide(request.eval(), champion);
          log.info(
              "{} version {}: promote={} ({})", name, version.version(), d.promote(), d.reason());
          if (d.promote()) {
            registry.setAlias(name, CHAMPION, version.version());
            promoted = true;
          }
        }
      }
      if (promoted) {
        aliases.add(CHAMPION);
      }
      return new RegistrationResult(name, version.version(), aliases, promoted);
    } catch (IOException e) {
      throw ActivityFailures.service("registering " + name, e);
    }
  }

  private static Map<String, String> versionTags(RegistrationRequest r) {
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put(WORKFLOW_TAG, r.workflowId());
    tags.put("loraflow.base_model", r.baseModel());
    tags.put("loraflow.dataset_sha256", r.datasetSha256());
    tags.put("loraflow.adapter_key", r.adapterKey());
    EvalResult eval = r.eval();
    if (eval != null) {
      tags.put(PromotionPolicy.EVAL_LOSS_TAG, Double.toString(eval.adapterEvalLoss()));
      tags.put("loraflow.eval_loss_base", Double.toString(eval.baseEvalLoss()));
      if (eval.adapter() != null) {
        tags.put("loraflow.rougeL", Double.toString(eval.adapter().rougeL()));
      }
    }
    return tags;
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
