package io.loraflow.engine.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import io.loraflow.engine.io.Safetensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * LoRA adapters in PEFT's on-disk format: {@code adapter_config.json} and {@code
 * adapter_model.safetensors} with tensors {@code base_model.model.<module>.lora_A.weight} (r, in)
 * and {@code ...lora_B.weight} (out, r), float32.
 *
 * <p>A loaded adapter keeps its {@code adapter_config.json} text as read, and {@link #save(Path)}
 * writes that text back unchanged: keys this class does not know (PEFT 0.21 writes 41, we read 9)
 * survive, and known ones are not rewritten.
 *
 * @param config the LoRA shape (target modules as written in the file)
 * @param baseModel base_model_name_or_path
 * @param loraA lora_A weights by module path, (r, in) float32
 * @param loraB lora_B weights by module path, (out, r) float32
 * @param configJson the adapter_config.json text these weights go with
 */
public record PeftAdapter(
    LoraConfig config,
    String baseModel,
    Map<String, NDArray> loraA,
    Map<String, NDArray> loraB,
    String configJson) {

  public static final String CONFIG_FILE = "adapter_config.json";
  public static final String WEIGHTS_FILE = "adapter_model.safetensors";
  private static final String PREFIX = "base_model.model.";
  private static final String A_SUFFIX = ".lora_A.weight";
  private static final String B_SUFFIX = ".lora_B.weight";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** PEFT's layout: Python's json.dumps(indent=2) ({@code "key": value}, one entry a line). */
  private static final ObjectWriter PEFT_STYLE =
      JSON.writer(
          new DefaultPrettyPrinter()
              .withSeparators(
                  Separators.createDefaultInstance()
                      .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                      .withObjectEmptySeparator("")
                      .withArrayEmptySeparator(""))
              .withObjectIndenter(new DefaultIndenter("  ", "\n"))
              .withArrayIndenter(new DefaultIndenter("  ", "\n")));

  /**
   * Writes the adapter of {@code modules} into {@code dir} (created if needed). target_modules is
   * written as the list of module-name suffixes when that selects exactly the wrapped modules among
   * {@code allLinear}, else as the list of full module paths (PEFT matches both by suffix).
   */
  public static void save(
      Path dir,
      Map<String, LoraLinear> modules,
      List<String> allLinear,
      LoraConfig config,
      String baseModel)
      throws IOException {
    if (modules.isEmpty()) {
      throw new IllegalArgumentException("no LoRA modules to save");
    }
    Map<String, NDArray> a = new TreeMap<>();
    Map<String, NDArray> b = new TreeMap<>();
    for (LoraLinear m : modules.values()) {
      a.put(m.name(), m.loraA());
      b.put(m.name(), m.loraB());
    }
    write(dir, a, b, configJson(config, baseModel, targetList(modules.keySet(), allLinear)));
  }

  /**
   * Writes this adapter into {@code dir} (created if needed): its weights, and its
   * adapter_config.json exactly as it was read.
   */
  public void save(Path dir) throws IOException {
    write(dir, loraA, loraB, configJson);
  }

  private static void write(
      Path dir, Map<String, NDArray> loraA, Map<String, NDArray> loraB, String configJson)
      throws IOException {
    Files.createDirectories(dir);
    Map<String, NDArray> tensors = new TreeMap<>();
    loraA.forEach((m, w) -> tensors.put(PREFIX + m + A_SUFFIX, w.toType(DataType.FLOAT32, false)));
    loraB.forEach((m, w) -> tensors.put(PREFIX + m + B_SUFFIX, w.toType(DataType.FLOAT32, false)));
    Safetensors.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"));
    Path tmp = dir.resolve(CONFIG_FILE + ".tmp");
    Files.writeString(tmp, configJson, StandardCharsets.UTF_8);
    Files.move(
        tmp,
        dir.resolve(CONFIG_FILE),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  /** The adapter_config.json text PEFT 0.x writes for a plain LoRA adapter. */
  static String configJson(LoraConfig config, String baseModel, List<String> targets) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("alpha_pattern", Map.of());
    json.put("auto_mapping", null);
    json.put("base_model_name_or_path", baseModel);
    json.put("bias", "none");
    json.put("fan_in_fan_out", false);
    json.put("inference_mode", true);
    json.put("init_lora_weights", true);
    json.put("layers_pattern", null);
    json.put("layers_to_transform", null);
    json.put("lora_alpha", config.alpha());
    json.put("lora_dropout", config.dropout());
    json.put("modules_to_save", null);
    json.put("peft_type", "LORA");
    json.put("r", config.r());
    json.put("rank_pattern", Map.of());
    json.put("revision", null);
    json.put("target_modules", targets);
    json.put("task_type", "CAUSAL_LM");
    json.put("use_dora", false);
    json.put("use_rslora", config.useRslora());
    try {
      return PEFT_STYLE.writeValueAsString(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write adapter_config.json", e);
    }
  }

  private static List<String> targetList(Set<String> wrapped, List<String> allLinear) {
    Set<String> suffixes =
        new LinkedHashSet<>(LoraLinearFactory.moduleSuffixes(List.copyOf(wrapped)));
    for (String m : allLinear) {
      String s = m.substring(m.lastIndexOf('.') + 1);
      if (suffixes.contains(s) && !wrapped.contains(m)) {
        return new ArrayList<>(wrapped); // suffixes would select more than we trained
      }
    }
    return new ArrayList<>(suffixes);
  }

  /** Reads a PEFT LoRA adapter directory; tensors land in {@code manager} as float32. */
  public static PeftAdapter load(Path dir, NDManager manager) throws IOException {
    Path configFile = dir.resolve(CONFIG_FILE);
    Path weightsFile = dir.resolve(WEIGHTS_FILE);
    if (!Files.isRegularFile(configFile) || !Files.isRegularFile(weightsFile)) {
      throw new IOException(
          dir
              + " is not a PEFT adapter: it needs "
              + CONFIG_FILE
              + " and "
              + WEIGHTS_FILE
              + " (adapter_model.bin is not supported; re-save with safe_serialization=True)");
    }
    String text = Files.readString(configFile, StandardCharsets.UTF_8);
    JsonNode json;
    try {
      json = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IOException(configFile + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (json == null || !json.isObject()) {
      throw new IOException(configFile + " is not a JSON object");
    }
    String peftType = string(json, "peft_type", "LORA");
    if (!peftType.equals("LORA")) {
      throw new IOException(configFile + ": peft_type " + peftType + " is not LORA");
    }
    for (String unsupported : new String[] {"rank_pattern", "alpha_pattern"}) {
      JsonNode p = json.get(unsupported);
      if (p != null && p.isObject() && p.size() > 0) {
        throw new IOException(configFile + ": " + unsupported + " is not supported");
      }
    }
    if (json.path("use_dora").asBoolean(false)) {
      throw new IOException(configFile + ": DoRA adapters (use_dora=true) are not supported");
    }
    String bias = string(json, "bias", "none");
    if (!bias.equals("none")) {
      throw new IOException(configFile + ": bias=" + bias + " is not supported (only none)");
    }
    List<String> targets = new ArrayList<>();
    JsonNode t = json.get("target_modules");
    if (t == null || t.isNull()) {
      throw new IOException(configFile + ": target_modules is missing");
    } else if (t.isArray()) {
      for (JsonNode e : t) {
        if (!e.isTextual()) {
          throw new IOException(configFile + ": target_modules has a non-string entry " + e);
        }
        targets.add(e.asText());
      }
    } else if (t.isTextual()) {
      String s = t.asText();
      targets.add(s.equals(LoraConfig.ALL_LINEAR) ? s : "re:" + s);
    } else {
      throw new IOException(configFile + ": target_modules must be a list or a string, got " + t);
    }
    JsonNode r = json.get("r");
    JsonNode alpha = json.get("lora_alpha");
    if (r == null || !r.canConvertToInt() || !r.isIntegralNumber()) {
      throw new IOException(configFile + ": r must be a whole number, got " + r);
    }
    if (alpha == null || !alpha.isNumber()) {
      throw new IOException(configFile + ": lora_alpha must be a number, got " + alpha);
    }
    JsonNode dropout = json.get("lora_dropout");
    LoraConfig config =
        new LoraConfig(
            r.asInt(),
            alpha.asDouble(),
            dropout == null || dropout.isNull() ? 0.0 : dropout.asDouble(),
            targets,
            json.path("use_rslora").asBoolean(false));
    Map<String, NDArray> a = new TreeMap<>();
    Map<String, NDArray> b = new TreeMap<>();
    for (Map.Entry<String, NDArray> e : Safetensors.readAll(weightsFile, manager).entrySet()) {
      String key = e.getKey();
      String module = key.startsWith(PREFIX) ? key.substring(PREFIX.length()) : key;
      NDArray value = e.getValue().toType(DataType.FLOAT32, false);
      if (module.endsWith(A_SUFFIX)) {
        a.put(module.substring(0, module.length() - A_SUFFIX.length()), value);
      } else if (module.endsWith(B_SUFFIX)) {
        b.put(module.substring(0, module.length() - B_SUFFIX.length()), value);
      } else {
        throw new IOException(
            weightsFile
                + ": unexpected tensor "
                + key
                + " (only lora_A/lora_B weights are supported)");
      }
    }
    if (!a.keySet().equals(b.keySet())) {
      throw new IOException(
          weightsFile + ": lora_A and lora_B modules differ: " + a.keySet() + " vs " + b.keySet());
    }
    return new PeftAdapter(config, string(json, "base_model_name_or_path", ""), a, b, text);
  }

  /**
   * Copies these weights into the model's LoRA modules. Every adapter module must exist in {@code
   * modules} with the same shapes, and every module must receive weights.
   */
  public void applyTo(Map<String, LoraLinear> modules) {
    if (!modules.keySet().equals(loraA.keySet())) {
      throw new IllegalArgumentException(
          "adapter modules "
              + loraA.keySet()
              + " do not match the model's LoRA modules "
              + modules.keySet()
              + " (build the model with the adapter's LoraConfig)");
    }
    for (LoraLinear m : modules.values()) {
      copy(loraA.get(m.name()), m.loraA(), m.name() + A_SUFFIX);
      copy(loraB.get(m.name()), m.loraB(), m.name() + B_SUFFIX);
    }
  }

  private static void copy(NDArray from, NDArray to, String name) {
    if (!from.getShape().equals(to.getShape())) {
      throw new IllegalArgumentException(
          name + ": adapter shape " + from.getShape() + " but the model needs " + to.getShape());
    }
    NDArray value = from.toDevice(to.getDevice(), false).toType(to.getDataType(), false);
    // an indexed copy, not set(Buffer): DJL's buffer set runs under libtorch's deprecated
    // AutoNonVariableTypeMode, which prints a deprecation warning (once per process). It runs with
    // grad mode off (torch.no_grad): a trainable leaf (resuming training) may not be written in
    // place while autograd records, and grad mode is on by default on a fresh thread.
    boolean gradMode = ai.djl.pytorch.jni.JniUtils.isGradMode();
    ai.djl.pytorch.jni.JniUtils.setGradMode(false);
    try {
      to.set(new ai.djl.ndarray.index.NDIndex("..."), value);
    } finally {
      ai.djl.pytorch.jni.JniUtils.setGradMode(gradMode);
    }
  }

  private static String string(JsonNode json, String key, String fallback) {
    JsonNode e = json.get(key);
    return e == null || e.isNull() ? fallback : e.asText();
  }
}
