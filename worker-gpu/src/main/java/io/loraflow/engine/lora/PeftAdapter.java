package io.loraflow.engine.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.loraflow.engine.io.Safetensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * @param config the LoRA shape (target modules as written in the file)
 * @param baseModel base_model_name_or_path
 * @param loraA lora_A weights by module path, (r, in) float32
 * @param loraB lora_B weights by module path, (out, r) float32
 */
public record PeftAdapter(
    LoraConfig config, String baseModel, Map<String, NDArray> loraA, Map<String, NDArray> loraB) {

  public static final String CONFIG_FILE = "adapter_config.json";
  public static final String WEIGHTS_FILE = "adapter_model.safetensors";
  private static final String PREFIX = "base_model.model.";
  private static final String A_SUFFIX = ".lora_A.weight";
  private static final String B_SUFFIX = ".lora_B.weight";
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().create();

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
    Files.createDirectories(dir);
    Map<String, NDArray> tensors = new TreeMap<>();
    for (LoraLinear m : modules.values()) {
      tensors.put(PREFIX + m.name() + A_SUFFIX, m.loraA().toType(DataType.FLOAT32, false));
      tensors.put(PREFIX + m.name() + B_SUFFIX, m.loraB().toType(DataType.FLOAT32, false));
    }
    Safetensors.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"));
    Files.writeString(
        dir.resolve(CONFIG_FILE),
        configJson(config, baseModel, targetList(modules.keySet(), allLinear)),
        StandardCharsets.UTF_8);
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
    return GSON.toJson(json);
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
    JsonObject json = GSON.fromJson(Files.readString(configFile), JsonObject.class);
    String peftType = string(json, "peft_type", "LORA");
    if (!peftType.equals("LORA")) {
      throw new IOException(configFile + ": peft_type " + peftType + " is not LORA");
    }
    for (String unsupported : new String[] {"rank_pattern", "alpha_pattern"}) {
      if (json.has(unsupported)
          && json.get(unsupported).isJsonObject()
          && json.getAsJsonObject(unsupported).size() > 0) {
        throw new IOException(configFile + ": " + unsupported + " is not supported");
      }
    }
    if (json.has("use_dora")
        && !json.get("use_dora").isJsonNull()
        && json.get("use_dora").getAsBoolean()) {
      throw new IOException(configFile + ": DoRA adapters (use_dora=true) are not supported");
    }
    String bias = string(json, "bias", "none");
    if (!bias.equals("none")) {
      throw new IOException(configFile + ": bias=" + bias + " is not supported (only none)");
    }
    List<String> targets = new ArrayList<>();
    JsonElement t = json.get("target_modules");
    if (t == null || t.isJsonNull()) {
      throw new IOException(configFile + ": target_modules is missing");
    } else if (t.isJsonArray()) {
      t.getAsJsonArray().forEach(e -> targets.add(e.getAsString()));
    } else {
      String s = t.getAsString();
      targets.add(s.equals(LoraConfig.ALL_LINEAR) ? s : "re:" + s);
    }
    boolean rslora =
        json.has("use_rslora")
            && !json.get("use_rslora").isJsonNull()
            && json.get("use_rslora").getAsBoolean();
    double dropout =
        json.has("lora_dropout") && !json.get("lora_dropout").isJsonNull()
            ? json.get("lora_dropout").getAsDouble()
            : 0.0;
    LoraConfig config =
        new LoraConfig(
            json.get("r").getAsInt(),
            json.get("lora_alpha").getAsDouble(),
            dropout,
            targets,
            rslora);
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
    return new PeftAdapter(config, string(json, "base_model_name_or_path", ""), a, b);
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
    to.set(from.toDevice(to.getDevice(), false).toType(to.getDataType(), false).toByteBuffer());
  }

  private static String string(JsonObject json, String key, String fallback) {
    JsonElement e = json.get(key);
    return e == null || e.isJsonNull() ? fallback : e.getAsString();
  }
}
