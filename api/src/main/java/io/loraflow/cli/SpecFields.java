package io.loraflow.cli;

import io.loraflow.workflows.RunSpec;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run-spec fields for {@code loraflow run --help}: names and defaults are read from the {@link
 * RunSpec} records themselves (nested records become {@code training.epochs}, ...), so a field
 * added or renamed there shows up here; the one-line meanings are below, and {@code SpecFieldsTest}
 * fails when a field has none or a meaning names no field.
 */
final class SpecFields {

  /** Field path -> meaning (defaults are appended from the records). */
  static final Map<String, String> MEANINGS = new LinkedHashMap<>();

  static {
    MEANINGS.put("runName", "readable name; the run id becomes finetune-<runName>");
    MEANINGS.put(
        "dataset",
        "required: builtin:ecommerce-faq, s3://bucket/key, https://..., hf://datasets/<repo>,"
            + " file:/path (workers' allowed dirs)");
    MEANINGS.put("datasetFormat", "auto, nested-json, jsonl, csv, alpaca or chat");
    MEANINGS.put("baseModel", "required: smollm2-135m-instruct, a hf:// or s3:// model URI");
    MEANINGS.put(
        "template", "default (<human>: {q}\\n<assistant>: {a}), chat, or text with {q} ... {a}");
    MEANINGS.put("training.epochs", "passes over the training split");
    MEANINGS.put("training.learningRate", "peak AdamW learning rate");
    MEANINGS.put("training.loraR", "LoRA rank r");
    MEANINGS.put("training.loraAlpha", "LoRA alpha; scaling = alpha / r");
    MEANINGS.put("training.loraDropout", "dropout on the LoRA input, in [0, 1)");
    MEANINGS.put(
        "training.targetModules",
        "projections to adapt, e.g. [q_proj, v_proj]; [] = family default");
    MEANINGS.put("training.maxSeqLen", "tokens per example; longer ones are truncated");
    MEANINGS.put("training.batchSize", "examples per micro-batch");
    MEANINGS.put("training.gradAccum", "micro-batches per optimizer step");
    MEANINGS.put("training.seed", "seed of data order, LoRA init and dropout");
    MEANINGS.put("training.precision", "auto (fp16 on GPU, fp32 on CPU), fp16 or fp32");
    MEANINGS.put("training.checkpointEverySteps", "full training-state checkpoint every N steps");
    MEANINGS.put("training.optimizer", "adamw or adamw8bit");
    MEANINGS.put("training.schedule", "cosine, linear or constant (after warmup)");
    MEANINGS.put("training.warmupRatio", "fraction of the steps in linear warmup, in [0, 1)");
    MEANINGS.put(
        "training.evalEverySteps",
        "held-out loss every N steps besides each epoch end (0: epoch ends only)");
    MEANINGS.put(
        "training.earlyStoppingPatience",
        "stop after N held-out evaluations without improvement (0: never)");
    MEANINGS.put(
        "training.earlyStoppingMinDelta", "held-out loss improvement that counts (nats/token)");
    MEANINGS.put("tags", "extra MLflow tags of the run (at most 20), e.g. mlflow.parentRunId");
    MEANINGS.put("evalFraction", "held-out fraction of the examples, in [0, 0.5]");
    MEANINGS.put("evaluation.maxNewTokens", "generation budget per evaluated answer");
    MEANINGS.put("evaluation.numPrompts", "held-out questions answered by base and adapter");
    MEANINGS.put("evaluation.seed", "seed that picks the evaluated prompts");
    MEANINGS.put(
        "evaluation.numSeenPrompts", "training questions answered and scored beside the held-out");
    MEANINGS.put("registry.modelName", "registered model name; empty = loraflow-<base model>");
    MEANINGS.put("registry.promote", "give the new version the champion alias when it is better");
    MEANINGS.put(
        "registry.register", "register the adapter (false: a sweep child; the sweep registers)");
  }

  /** One documented field: its path, default (null when none) and meaning. */
  record Field(String path, Object defaultValue, String meaning) {}

  private SpecFields() {}

  /** Every field of {@link RunSpec}, nested records flattened, in declaration order. */
  static List<Field> fields() {
    List<Field> out = new ArrayList<>();
    collect(RunSpec.class, RunSpec.of(null, null), "", out);
    return out;
  }

  private static void collect(Class<?> type, Object defaults, String prefix, List<Field> out) {
    for (RecordComponent c : type.getRecordComponents()) {
      Object value = read(c, defaults);
      String path = prefix + c.getName();
      if (c.getType().isRecord()) {
        collect(c.getType(), value, path + ".", out);
      } else {
        out.add(new Field(path, value, MEANINGS.get(path)));
      }
    }
  }

  /** The epilog of {@code loraflow run --help}: every field with its default, then examples. */
  static String help() {
    StringBuilder b =
        new StringBuilder("run spec fields (YAML or JSON; only dataset and baseModel");
    b.append(" are required; unknown fields are errors):\n");
    List<Field> fields = fields();
    int width = fields.stream().mapToInt(f -> f.path().length()).max().orElse(10) + 2;
    for (Field f : fields) {
      String text = (f.meaning() == null ? "" : f.meaning()) + defaultText(f);
      String indent = " ".repeat(2 + width);
      // argparse4j re-wraps epilog lines longer than its width: wrap here, below it
      StringBuilder line = new StringBuilder("  " + padRight(f.path(), width));
      for (String word : text.split(" ")) {
        if (line.length() > indent.length() && line.length() + 1 + word.length() > LINE) {
          b.append(line).append('\n');
          line.setLength(0);
          line.append(indent);
        } else if (line.length() > indent.length()) {
          line.append(' ');
        }
        line.append(word);
      }
      b.append(line).append('\n');
    }
    b.append(
        """

        example spec.yaml:
          dataset: builtin:ecommerce-faq
          baseModel: smollm2-135m-instruct
          training:
            epochs: 2
            learningRate: 0.0002

        examples:
          loraflow run spec.yaml --follow
          loraflow run spec.json --key nightly-2026-12-01   (the same key never starts twice)""");
    return b.toString();
  }

  /** Help lines stay below argparse4j's wrap width (100). */
  static final int LINE = 96;

  private static String defaultText(Field f) {
    Object v = f.defaultValue();
    if (v == null || f.path().equals("dataset") || f.path().equals("baseModel")) {
      return "";
    }
    if (v instanceof List<?> list) {
      return list.isEmpty()
          ? ""
          : " [" + String.join(",", list.stream().map(String::valueOf).toList()) + "]";
    }
    if (v instanceof Double d) {
      return " [" + java.math.BigDecimal.valueOf(d).stripTrailingZeros().toPlainString() + "]";
    }
    return " [" + v + "]";
  }

  private static String padRight(String s, int n) {
    return s.length() >= n ? s : s + " ".repeat(n - s.length());
  }

  private static Object read(RecordComponent c, Object owner) {
    try {
      return owner == null ? null : c.getAccessor().invoke(owner);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read " + c.getName(), e);
    }
  }
}
