package io.loraflow.workflows;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The object-store layout: one bucket (default {@value #DEFAULT_BUCKET}), keys below. Every
 * component that reads or writes artifacts builds its keys here, so the layout lives in one place.
 *
 * <pre>
 * datasets/&lt;sha256&gt;/data.jsonl            normalized {"question","answer"} lines; written once, never overwritten
 * datasets/&lt;sha256&gt;/stats.json            DatasetStats of the first upload
 * models/&lt;name&gt;/...                        cached base model files (GGUF or HF dir), prepareBaseModel
 * models/&lt;name&gt;/tokenizer.json             HF tokenizer.json (converted from GGUF when needed)
 * models/&lt;name&gt;/manifest.json              written last: the cache entry is complete
 * runs/&lt;run-id&gt;/prompts/train.jsonl        tokenized {"input_ids","labels"} lines (labels -100 on prompt tokens)
 * runs/&lt;run-id&gt;/prompts/eval.jsonl         same format, the held-out split (eval loss)
 * runs/&lt;run-id&gt;/prompts/eval-prompts.jsonl {"question","reference","prompt"} lines (generation)
 * runs/&lt;run-id&gt;/prompts/train-prompts.jsonl the same for the training split, in train.jsonl order
 * runs/&lt;run-id&gt;/prompts/stats.json         PromptStats
 * runs/&lt;run-id&gt;/checkpoints/step-&lt;n&gt;/...    full training state; manifest.json written last
 * runs/&lt;run-id&gt;/adapter/adapter_config.json + adapter_model.safetensors   PEFT adapter
 * runs/&lt;run-id&gt;/eval/report.json, report.html, loss-curve.png
 * </pre>
 *
 * The run id is the workflow id. Writers follow "files first, manifest last": a directory without
 * its manifest is incomplete and is never read.
 */
public final class StorageKeys {

  public static final String DEFAULT_BUCKET = "loraflow";
  public static final String MANIFEST = "manifest.json";

  private static final Pattern STEP = Pattern.compile(".*/checkpoints/step-(\\d+)/?.*");

  private StorageKeys() {}

  // datasets/<sha256>/
  public static String datasetPrefix(String sha256) {
    return "datasets/" + requireHex(sha256) + "/";
  }

  public static String datasetData(String sha256) {
    return datasetPrefix(sha256) + "data.jsonl";
  }

  public static String datasetStats(String sha256) {
    return datasetPrefix(sha256) + "stats.json";
  }

  // models/<name>/
  public static String modelPrefix(String storageName) {
    return "models/" + requireName(storageName) + "/";
  }

  public static String modelTokenizer(String storageName) {
    return modelPrefix(storageName) + "tokenizer.json";
  }

  public static String modelManifest(String storageName) {
    return modelPrefix(storageName) + MANIFEST;
  }

  // runs/<run-id>/
  public static String runPrefix(String runId) {
    return "runs/" + requireName(runId) + "/";
  }

  public static String promptsTrain(String runId) {
    return runPrefix(runId) + "prompts/train.jsonl";
  }

  public static String promptsEval(String runId) {
    return runPrefix(runId) + "prompts/eval.jsonl";
  }

  public static String promptsEvalPrompts(String runId) {
    return runPrefix(runId) + "prompts/eval-prompts.jsonl";
  }

  public static String promptsTrainPrompts(String runId) {
    return runPrefix(runId) + "prompts/train-prompts.jsonl";
  }

  public static String promptsStats(String runId) {
    return runPrefix(runId) + "prompts/stats.json";
  }

  public static String checkpointsPrefix(String runId) {
    return runPrefix(runId) + "checkpoints/";
  }

  public static String checkpoint(String runId, long step) {
    if (step < 0) {
      throw new IllegalArgumentException("checkpoint step must be >= 0, got " + step);
    }
    return checkpointsPrefix(runId) + "step-" + step + "/";
  }

  public static String checkpointManifest(String runId, long step) {
    return checkpoint(runId, step) + MANIFEST;
  }

  /** The step of a key under {@code checkpoints/step-<n>/}, if it is one. */
  public static OptionalLong checkpointStep(String key) {
    Matcher m = STEP.matcher(key);
    return m.matches() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
  }

  public static String adapterPrefix(String runId) {
    return runPrefix(runId) + "adapter/";
  }

  /**
   * The run whose prefix holds an adapter: the inverse of {@link #adapterPrefix} ({@code runs/<run
   * id>/adapter/} gives {@code <run id>}); empty for any other key.
   */
  public static Optional<String> adapterRunId(String key) {
    String prefix = "runs/";
    String suffix = "/adapter/";
    if (key == null || !key.startsWith(prefix) || !key.endsWith(suffix)) {
      return Optional.empty();
    }
    String run = key.substring(prefix.length(), key.length() - suffix.length());
    try {
      return adapterPrefix(run).equals(key) ? Optional.of(run) : Optional.empty();
    } catch (IllegalArgumentException notARunId) {
      return Optional.empty();
    }
  }

  public static String adapterConfig(String runId) {
    return adapterPrefix(runId) + "adapter_config.json";
  }

  public static String adapterWeights(String runId) {
    return adapterPrefix(runId) + "adapter_model.safetensors";
  }

  public static String evalPrefix(String runId) {
    return runPrefix(runId) + "eval/";
  }

  public static String evalReportJson(String runId) {
    return evalPrefix(runId) + "report.json";
  }

  public static String evalReportHtml(String runId) {
    return evalPrefix(runId) + "report.html";
  }

  public static String lossCurvePng(String runId) {
    return evalPrefix(runId) + "loss-curve.png";
  }

  private static String requireHex(String sha256) {
    if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException(
          "dataset hash must be 64 lowercase hex digits (sha256), got '" + sha256 + "'");
    }
    return sha256;
  }

  private static String requireName(String name) {
    if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]*") || name.contains("..")) {
      throw new IllegalArgumentException(
          "storage name must be letters, digits, '.', '_' or '-' (no '..'), got '" + name + "'");
    }
    return name;
  }
}
