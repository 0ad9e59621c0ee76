package io.loraflow.engine.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.engine.model.ModelConfig;
import io.loraflow.engine.model.ModelConfig.FalconLayout;
import io.loraflow.engine.model.ModelConfig.Family;
import io.loraflow.engine.model.ModelConfig.RopeScaling;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Translates a Hugging Face {@code config.json} (+ {@code generation_config.json}) into {@link
 * ModelConfig}, the one place where HF key names and defaults appear. Defaults follow the
 * transformers config classes (LlamaConfig, MistralConfig, Qwen2Config, FalconConfig).
 */
public final class HfConfig {

  private static final Set<String> LLAMA_TYPES = Set.of("llama", "mistral", "qwen2");
  private static final Set<String> FALCON_TYPES = Set.of("falcon", "RefinedWebModel", "RefinedWeb");

  private HfConfig() {}

  /** Reads {@code dir/config.json} and, when present, {@code dir/generation_config.json}. */
  public static ModelConfig read(Path dir) {
    Path configFile = dir.resolve("config.json");
    if (!Files.isRegularFile(configFile)) {
      throw new ModelFormatException(
          dir + ": no config.json; a model directory needs config.json and *.safetensors");
    }
    JsonNode config = readJson(configFile);
    Path genFile = dir.resolve("generation_config.json");
    JsonNode gen = Files.isRegularFile(genFile) ? readJson(genFile) : null;
    return translate(config, gen, configFile.toString());
  }

  static JsonNode readJson(Path file) {
    try {
      JsonNode node = new ObjectMapper().readTree(file.toFile());
      if (node == null || !node.isObject()) {
        throw ModelFormatException.inFile(file, "is not a JSON object");
      }
      return node;
    } catch (IOException e) {
      if (e instanceof com.fasterxml.jackson.core.JsonProcessingException) {
        throw ModelFormatException.inFile(file, "is not valid JSON: " + e.getMessage());
      }
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /**
   * @param config parsed config.json
   * @param generation parsed generation_config.json or null
   * @param source file name for error messages
   */
  public static ModelConfig translate(JsonNode config, JsonNode generation, String source) {
    Keys k = new Keys(config, source);
    String type = config.path("model_type").asText("");
    if (LLAMA_TYPES.contains(type)) {
      return llama(k, type, generation);
    }
    if (FALCON_TYPES.contains(type)) {
      return falcon(k, type, generation);
    }
    throw new ModelFormatException(
        source
            + ": model_type '"
            + type
            + "' is not supported (supported: llama, mistral, qwen2, falcon, RefinedWebModel,"
            + " RefinedWeb)");
  }

  private static ModelConfig llama(Keys k, String type, JsonNode generation) {
    int hidden = k.requireInt("hidden_size");
    int heads = k.requireInt("num_attention_heads");
    int kvHeads = k.intOr("num_key_value_heads", heads);
    int headDim = k.intOr("head_dim", hidden / heads);
    boolean qwen = type.equals("qwen2");
    boolean mistral = type.equals("mistral");
    boolean attentionBias = k.boolOr("attention_bias", false);
    int slidingWindow = 0;
    if (mistral) {
      // MistralConfig defaults to 4096 when the key is absent; null switches it off
      slidingWindow = k.node.has("sliding_window") ? k.intOr("sliding_window", 0) : 4096;
    } else if (qwen && k.boolOr("use_sliding_window", false)) {
      slidingWindow = k.intOr("sliding_window", 0);
    }
    int defaultMaxPos = mistral ? 4096 * 32 : qwen ? 32768 : 2048;
    return new ModelConfig(
        Family.LLAMA,
        k.requireInt("vocab_size"),
        hidden,
        k.requireInt("intermediate_size"),
        k.requireInt("num_hidden_layers"),
        heads,
        kvHeads,
        headDim,
        k.intOr("max_position_embeddings", defaultMaxPos),
        k.doubleOr("rms_norm_eps", 1e-6),
        ropeTheta(k, 10000.0),
        ropeScaling(k),
        k.boolOr("tie_word_embeddings", false),
        qwen || attentionBias,
        attentionBias,
        k.boolOr("mlp_bias", false),
        null,
        slidingWindow,
        k.stringOr("hidden_act", "silu"),
        k.intOr("bos_token_id", qwen ? -1 : 1),
        eosIds(k, generation, qwen ? -1 : 2));
  }

  private static ModelConfig falcon(Keys k, String type, JsonNode generation) {
    if (k.boolOr("alibi", false)) {
      throw new ModelFormatException(
          k.source
              + ": alibi=true (ALiBi position bias) is not supported; only rotary Falcon models"
              + " (falcon-7b/40b/180b layouts) are");
    }
    int hidden = k.intOr("hidden_size", k.intOr("n_embed", -1));
    if (hidden <= 0) {
      throw new ModelFormatException(k.source + ": missing hidden_size");
    }
    int heads = k.intOr("num_attention_heads", k.intOr("n_head", -1));
    int layers = k.intOr("num_hidden_layers", k.intOr("n_layer", -1));
    if (heads <= 0 || layers <= 0) {
      throw new ModelFormatException(
          k.source + ": missing num_attention_heads/n_head or num_hidden_layers/n_layer");
    }
    boolean newArch = k.boolOr("new_decoder_architecture", type.equals("RefinedWeb"));
    boolean multiQuery = k.boolOr("multi_query", true);
    int configKv = k.intOr("num_kv_heads", k.intOr("n_head_kv", heads));
    // FalconAttention: kv heads = num_kv_heads for the new layout or without multi_query, else 1
    int kvHeads = newArch ? configKv : multiQuery ? 1 : heads;
    boolean parallel = newArch || k.boolOr("parallel_attn", true);
    int numLn = newArch ? k.intOr("num_ln_in_parallel_attn", 2) : 1;
    boolean bias = k.boolOr("bias", false);
    return new ModelConfig(
        Family.FALCON,
        k.requireInt("vocab_size"),
        hidden,
        k.intOr("ffn_hidden_size", 4 * hidden),
        layers,
        heads,
        kvHeads,
        k.intOr("head_dim", hidden / heads),
        k.intOr("max_position_embeddings", 2048),
        k.doubleOr("layer_norm_epsilon", 1e-5),
        ropeTheta(k, 10000.0),
        ropeScaling(k),
        k.boolOr("tie_word_embeddings", true),
        bias,
        bias,
        bias,
        new FalconLayout(parallel, newArch, numLn),
        0,
        k.stringOr("activation", "gelu"),
        k.intOr("bos_token_id", 11),
        eosIds(k, generation, 11));
  }

  /** rope_theta, or transformers 5's rope_parameters.rope_theta. */
  private static double ropeTheta(Keys k, double fallback) {
    JsonNode params = k.node.get("rope_parameters");
    if (params != null && params.has("rope_theta")) {
      return params.get("rope_theta").asDouble();
    }
    return k.doubleOr("rope_theta", fallback);
  }

  private static RopeScaling ropeScaling(Keys k) {
    JsonNode s = k.node.get("rope_scaling");
    if (s == null || s.isNull()) {
      s = k.node.get("rope_parameters");
    }
    if (s == null || s.isNull()) {
      return null;
    }
    String type = s.has("rope_type") ? s.get("rope_type").asText() : s.path("type").asText("");
    switch (type) {
      case "default":
        return null;
      case "linear":
      case "dynamic":
        return new RopeScaling(type, need(k, s, "factor"), 0, 0, 0);
      case "llama3":
        return new RopeScaling(
            type,
            need(k, s, "factor"),
            s.path("low_freq_factor").asDouble(1.0),
            s.path("high_freq_factor").asDouble(4.0),
            s.path("original_max_position_embeddings").asInt(8192));
      default:
        throw new ModelFormatException(
            k.source
                + ": rope_scaling type '"
                + type
                + "' is not supported (supported: linear, dynamic, llama3)");
    }
  }

  private static double need(Keys k, JsonNode s, String key) {
    if (!s.has(key)) {
      throw new ModelFormatException(k.source + ": rope_scaling lacks '" + key + "': " + s);
    }
    return s.get(key).asDouble();
  }

  /**
   * generation_config.json's eos ids first (what generate() stops on), then config.json's (or the
   * config class default when the key is absent, -1 for none).
   */
  private static List<Integer> eosIds(Keys k, JsonNode generation, int classDefault) {
    Set<Integer> ids = new LinkedHashSet<>();
    if (generation != null) {
      addIds(ids, generation.get("eos_token_id"));
    }
    if (k.node.has("eos_token_id")) {
      addIds(ids, k.node.get("eos_token_id"));
    } else if (classDefault >= 0) {
      ids.add(classDefault);
    }
    return new ArrayList<>(ids);
  }

  private static void addIds(Set<Integer> ids, JsonNode node) {
    if (node == null || node.isNull()) {
      return;
    }
    if (node.isArray()) {
      node.forEach(n -> ids.add(n.asInt()));
    } else {
      ids.add(node.asInt());
    }
  }

  /** Typed access to config keys with errors naming the file. */
  private record Keys(JsonNode node, String source) {
    int requireInt(String key) {
      JsonNode v = node.get(key);
      if (v == null || !v.canConvertToInt()) {
        throw new ModelFormatException(source + ": missing or non-integer '" + key + "'");
      }
      return v.asInt();
    }

    int intOr(String key, int fallback) {
      JsonNode v = node.get(key);
      return v == null || v.isNull() ? fallback : v.asInt();
    }

    double doubleOr(String key, double fallback) {
      JsonNode v = node.get(key);
      return v == null || v.isNull() ? fallback : v.asDouble();
    }

    boolean boolOr(String key, boolean fallback) {
      JsonNode v = node.get(key);
      return v == null || v.isNull() ? fallback : v.asBoolean();
    }

    String stringOr(String key, String fallback) {
      JsonNode v = node.get(key);
      return v == null || v.isNull() ? fallback : v.asText();
    }
  }
}
