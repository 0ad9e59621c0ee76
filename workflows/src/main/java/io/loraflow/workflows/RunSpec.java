package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The input of a FineTune run: plain JSON, startable from the Temporal UI. Only {@code dataset} and
 * {@code baseModel} are required; the smallest valid input is
 *
 * <pre>{"dataset": "builtin:ecommerce-faq", "baseModel": "smollm2-135m-instruct"}</pre>
 *
 * <p>Missing fields take defaults when the record is built (also by Jackson), so a deserialized
 * spec never holds nulls except {@code runName} and {@code registry.modelName}. Validation is
 * separate ({@link #problems()}, {@link #validate()}) so that a bad spec fails the run with a
 * readable, non-retryable error instead of failing deserialization.
 *
 * @param runName optional readable name; becomes the workflow id {@code finetune-<runName>}
 * @param dataset dataset URI, see {@link DatasetUris}
 * @param datasetFormat "auto" (default: from extension and content), "nested-json" ({"questions":
 *     [{"question","answer"}]}), "jsonl", "csv", "alpaca" or "chat"
 * @param baseModel a known alias or a model URI, see {@link BaseModels}
 * @param template "default" ({@code <human>: {q}\n<assistant>: {a}}), "chat" (the base model's chat
 *     template, ChatML family) or a custom template with one {q} and ending in {a}
 * @param training hyper-parameters, see {@link TrainingSpec}
 * @param evalFraction held-out fraction of the examples, in [0, 0.5] (default 0.1; at least one
 *     example is held out when &gt; 0)
 * @param evaluation see {@link EvaluationSpec}
 * @param registry see {@link RegistrySpec}
 * @param tags extra MLflow tags of the run's MLflow run (at most 20; keys of letters, digits, '.',
 *     '_', '-', '/', not starting with "loraflow."; values up to 500 characters), e.g. {@code
 *     mlflow.parentRunId} to nest it under a sweep's parent run
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RunSpec(
    String runName,
    String dataset,
    String datasetFormat,
    String baseModel,
    String template,
    TrainingSpec training,
    Double evalFraction,
    EvaluationSpec evaluation,
    RegistrySpec registry,
    Map<String, String> tags) {

  public static final String DEFAULT_TEMPLATE = "<human>: {q}\n<assistant>: {a}";

  /** Most extra MLflow tags a spec may carry. */
  public static final int MAX_TAGS = 20;

  public RunSpec {
    runName = runName == null || runName.isBlank() ? null : runName.trim();
    dataset = dataset == null ? null : dataset.trim();
    datasetFormat = datasetFormat == null ? "auto" : datasetFormat.trim().toLowerCase();
    baseModel = baseModel == null ? null : baseModel.trim();
    template = template == null || template.isBlank() ? "default" : template;
    training = training == null ? TrainingSpec.defaults() : training;
    evalFraction = evalFraction == null ? 0.1 : evalFraction;
    evaluation = evaluation == null ? EvaluationSpec.defaults() : evaluation;
    registry = registry == null ? RegistrySpec.defaults() : registry;
    tags = OrderedMaps.copy(tags);
  }

  /** A spec without extra tags. */
  public RunSpec(
      String runName,
      String dataset,
      String datasetFormat,
      String baseModel,
      String template,
      TrainingSpec training,
      Double evalFraction,
      EvaluationSpec evaluation,
      RegistrySpec registry) {
    this(
        runName,
        dataset,
        datasetFormat,
        baseModel,
        template,
        training,
        evalFraction,
        evaluation,
        registry,
        null);
  }

  /** This spec with {@code more} tags added (existing keys replaced). */
  public RunSpec withTags(Map<String, String> more) {
    Map<String, String> t = new LinkedHashMap<>(tags);
    t.putAll(more);
    return new RunSpec(
        runName,
        dataset,
        datasetFormat,
        baseModel,
        template,
        training,
        evalFraction,
        evaluation,
        registry,
        t);
  }

  /** A spec with all defaults. */
  public static RunSpec of(String dataset, String baseModel) {
    return new RunSpec(null, dataset, null, baseModel, null, null, null, null, null);
  }

  /** Every problem, each naming the field, the bad value and how to fix it; empty when valid. */
  public List<String> problems() {
    List<String> p = new ArrayList<>();
    if (runName != null && !runName.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      p.add(
          "runName '"
              + runName
              + "' must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a"
              + " letter or digit");
    }
    addIfPresent(p, DatasetUris.problem(dataset));
    if (!DatasetUris.FORMATS.contains(datasetFormat)) {
      p.add(
          "datasetFormat must be one of " + DatasetUris.FORMATS + ", got '" + datasetFormat + "'");
    }
    addIfPresent(p, BaseModels.problem(baseModel));
    addIfPresent(p, templateProblem(template));
    p.addAll(training.problems());
    if (!(evalFraction >= 0 && evalFraction <= 0.5)) {
      p.add("evalFraction must be in [0, 0.5], got " + evalFraction);
    }
    p.addAll(evaluation.problems());
    p.addAll(registry.problems());
    if (tags.size() > MAX_TAGS) {
      p.add("tags has " + tags.size() + " entries; at most " + MAX_TAGS + " are allowed");
    }
    for (var e : tags.entrySet()) {
      String k = e.getKey();
      if (k == null || !k.matches("[A-Za-z0-9._/-]{1,250}") || k.startsWith("loraflow.")) {
        p.add(
            "tags has a bad key '"
                + k
                + "' (1-250 letters, digits, '.', '_', '-', '/'; 'loraflow.' is reserved)");
      } else if (e.getValue() == null || e.getValue().length() > 500) {
        p.add("tags." + k + " must be a string of at most 500 characters");
      }
    }
    return p;
  }

  /** Returns this spec or throws {@link IllegalArgumentException} listing every problem. */
  public RunSpec validate() {
    List<String> p = problems();
    if (!p.isEmpty()) {
      throw new IllegalArgumentException("invalid run spec: " + String.join("; ", p));
    }
    return this;
  }

  /**
   * The registered model name: the explicit one, or one per base model and dataset lineage: {@code
   * loraflow-<base model>-<dataset lineage>} (see {@link #datasetLineage()}). Versions of one
   * registered model are judged on the same held-out set (the promotion policy checks it), so a
   * second domain gets its own champion instead of competing with the first one's eval losses.
   */
  public String registeredModelName() {
    return registry.modelName() != null
        ? registry.modelName()
        : "loraflow-"
            + WorkflowIds.slug(BaseModels.storageName(baseModel), 60)
            + "-"
            + datasetLineage();
  }

  /**
   * The dataset's lineage: where its data comes from, independent of the content version, so that a
   * retrain on refreshed data of the same source stays in the same registered model. {@code
   * builtin:ecommerce-faq} -> {@code ecommerce-faq}; other URIs -> a slug of the last path segment
   * (without extension) and 8 hex digits of the URI's sha256, e.g. {@code faq-1a2b3c4d}.
   */
  public String datasetLineage() {
    if (dataset == null) {
      return "none";
    }
    if (dataset.startsWith("builtin:")) {
      return WorkflowIds.slug(dataset.substring("builtin:".length()), 40);
    }
    String path = dataset.replaceAll("[?#].*$", "").replaceAll("/+$", "");
    String last = path.substring(path.lastIndexOf('/') + 1).replaceAll("\\.[A-Za-z0-9]{1,8}$", "");
    String stem = WorkflowIds.slug(last, 40);
    String hash8 = BaseModels.sha256Hex(dataset).substring(0, 8);
    return stem.isEmpty() ? hash8 : stem + "-" + hash8;
  }

  /** The MLflow experiment of a run: one per base model, so runs on every dataset compare there. */
  public String experimentName() {
    return "loraflow-" + BaseModels.storageName(baseModel);
  }

  /** The resolved configuration as flat MLflow params (key -> value), in a stable order. */
  public Map<String, String> toParams() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("dataset", dataset);
    m.put("dataset_format", datasetFormat);
    m.put("base_model", baseModel);
    m.put("template", template);
    m.put("eval_fraction", String.valueOf(evalFraction));
    m.put("epochs", String.valueOf(training.epochs()));
    m.put("learning_rate", String.valueOf(training.learningRate()));
    m.put("lora_r", String.valueOf(training.loraR()));
    m.put("lora_alpha", String.valueOf(training.loraAlpha()));
    m.put("lora_dropout", String.valueOf(training.loraDropout()));
    m.put("target_modules", String.join(",", training.targetModules()));
    m.put("max_seq_len", String.valueOf(training.maxSeqLen()));
    m.put("batch_size", String.valueOf(training.batchSize()));
    m.put("grad_accum", String.valueOf(training.gradAccum()));
    m.put("seed", String.valueOf(training.seed()));
    m.put("precision", training.precision());
    m.put("checkpoint_every_steps", String.valueOf(training.checkpointEverySteps()));
    m.put("optimizer", training.optimizer());
    m.put("schedule", training.schedule());
    m.put("warmup_ratio", String.valueOf(training.warmupRatio()));
    m.put("eval_every_steps", String.valueOf(training.evalEverySteps()));
    m.put("early_stopping_patience", String.valueOf(training.earlyStoppingPatience()));
    m.put("early_stopping_min_delta", String.valueOf(training.earlyStoppingMinDelta()));
    m.put("eval_max_new_tokens", String.valueOf(evaluation.maxNewTokens()));
    m.put("eval_num_prompts", String.valueOf(evaluation.numPrompts()));
    m.put("eval_seed", String.valueOf(evaluation.seed()));
    m.put("eval_num_seen_prompts", String.valueOf(evaluation.numSeenPrompts()));
    m.put("registered_model", registeredModelName());
    m.put("promote", String.valueOf(registry.promote()));
    return m;
  }

  /** Null when the template is acceptable, else why not. */
  static String templateProblem(String template) {
    if ("default".equals(template) || "chat".equals(template)) {
      return null;
    }
    int q = template.indexOf("{q}");
    int a = template.indexOf("{a}");
    if (q < 0
        || a < 0
        || template.indexOf("{q}", q + 1) >= 0
        || template.indexOf("{a}", a + 1) >= 0) {
      return "template must be \"default\", \"chat\" or contain exactly one {q} and one {a}, got '"
          + template
          + "'";
    }
    if (a < q || !template.endsWith("{a}")) {
      return "template must put {q} before {a} and end with {a} (EOS follows the answer), got '"
          + template
          + "'";
    }
    return null;
  }

  private static void addIfPresent(List<String> p, String problem) {
    if (problem != null) {
      p.add(problem);
    }
  }
}
