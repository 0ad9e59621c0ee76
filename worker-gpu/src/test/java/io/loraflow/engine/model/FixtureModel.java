package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.engine.io.WeightSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Test support: one fixture written by src/test/python/make_model_fixtures.py (an HF model dir plus
 * expected.safetensors), read by a minimal safetensors reader and a minimal config.json
 * translation. Deliberately independent of the io package's loaders.
 */
public final class FixtureModel {

  public static final Path ROOT = Path.of("src/test/resources/models");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A safetensors tensor held on the heap: dtype name, shape, little-endian bytes. */
  public record RawTensor(String dtype, long[] shape, byte[] data) {

    public NDArray toArray(NDManager manager) {
      ByteBuffer buf = ByteBuffer.allocateDirect(data.length).order(ByteOrder.LITTLE_ENDIAN);
      buf.put(data).flip();
      DataType type =
          switch (dtype) {
            case "F32" -> DataType.FLOAT32;
            case "F16" -> DataType.FLOAT16;
            case "I64" -> DataType.INT64;
            default -> throw new IllegalArgumentException("fixture dtype " + dtype);
          };
      return manager.create(buf, new Shape(shape), type);
    }
  }

  public static Map<String, RawTensor> readSafetensors(Path file) {
    try {
      byte[] all = Files.readAllBytes(file);
      ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
      int headerLen = (int) bb.getLong(0);
      String header = new String(all, 8, headerLen, StandardCharsets.UTF_8);
      JsonNode json = JSON.readTree(header);
      Map<String, RawTensor> out = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : json.properties()) {
        if (e.getKey().equals("__metadata__")) {
          continue;
        }
        JsonNode t = e.getValue();
        long[] shape = JSON.convertValue(t.get("shape"), long[].class);
        long[] offsets = JSON.convertValue(t.get("data_offsets"), long[].class);
        int start = 8 + headerLen + (int) offsets[0];
        int end = 8 + headerLen + (int) offsets[1];
        byte[] data = java.util.Arrays.copyOfRange(all, start, end);
        out.put(e.getKey(), new RawTensor(t.get("dtype").asText(), shape, data));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** config.json of the fixtures -> ModelConfig (only the keys the fixtures use). */
  public static ModelConfig readConfig(Path file) {
    try {
      JsonNode j = JSON.readTree(Files.readString(file));
      String type = j.get("model_type").asText();
      JsonNode rope = j.has("rope_parameters") ? j.get("rope_parameters") : null;
      double theta = rope != null ? rope.get("rope_theta").asDouble() : 10000.0;
      ModelConfig.RopeScaling scaling = null;
      if (rope != null && !rope.get("rope_type").asText().equals("default")) {
        scaling =
            new ModelConfig.RopeScaling(
                rope.get("rope_type").asText(),
                rope.get("factor").asDouble(),
                num(rope, "low_freq_factor", 0),
                num(rope, "high_freq_factor", 0),
                (int) num(rope, "original_max_position_embeddings", 0));
      }
      int hidden = j.get("hidden_size").asInt();
      int heads = j.get("num_attention_heads").asInt();
      int vocab = j.get("vocab_size").asInt();
      int layers = j.get("num_hidden_layers").asInt();
      int maxPos = j.get("max_position_embeddings").asInt();
      boolean tie = !j.has("tie_word_embeddings") || j.get("tie_word_embeddings").asBoolean();
      List<Integer> eos = List.of(j.get("eos_token_id").asInt());
      int bos = j.get("bos_token_id").asInt();
      if (type.equals("falcon")) {
        boolean newArch = j.get("new_decoder_architecture").asBoolean();
        boolean multiQuery = j.get("multi_query").asBoolean();
        int kv = newArch ? j.get("num_kv_heads").asInt() : multiQuery ? 1 : heads;
        JsonNode nLn = j.get("num_ln_in_parallel_attn");
        int lnCount = nLn == null || nLn.isNull() ? (newArch ? 2 : 1) : nLn.asInt();
        boolean bias = j.get("bias").asBoolean();
        return new ModelConfig(
            ModelConfig.Family.FALCON,
            vocab,
            hidden,
            j.get("ffn_hidden_size").asInt(),
            layers,
            heads,
            kv,
            hidden / heads,
            maxPos,
            j.get("layer_norm_epsilon").asDouble(),
            theta,
            scaling,
            tie,
            bias,
            bias,
            bias,
            new ModelConfig.FalconLayout(j.get("parallel_attn").asBoolean(), newArch, lnCount),
            0,
            j.get("activation").asText(),
            bos,
            eos);
      }
      boolean qwen = type.equals("qwen2");
      boolean attnBias = j.has("attention_bias") && j.get("attention_bias").asBoolean();
      boolean mlpBias = j.has("mlp_bias") && j.get("mlp_bias").asBoolean();
      JsonNode window = j.get("sliding_window");
      int sliding = window == null || window.isNull() ? 0 : window.asInt();
      int headDim =
          j.has("head_dim") && !j.get("head_dim").isNull()
              ? j.get("head_dim").asInt()
              : hidden / heads;
      return new ModelConfig(
          ModelConfig.Family.LLAMA,
          vocab,
          hidden,
          j.get("intermediate_size").asInt(),
          layers,
          heads,
          j.get("num_key_value_heads").asInt(),
          headDim,
          maxPos,
          j.get("rms_norm_eps").asDouble(),
          theta,
          scaling,
          tie,
          qwen || attnBias,
          attnBias,
          mlpBias,
          null,
          sliding,
          j.get("hidden_act").asText(),
          bos,
          eos);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static double num(JsonNode o, String key, double dflt) {
    return o.has(key) && !o.get(key).isNull() ? o.get(key).asDouble() : dflt;
  }

  /** A WeightSource over an in-memory tensor map. */
  public static final class MapSource implements WeightSource {
    private final ModelConfig config;
    private final Map<String, RawTensor> tensors;
    private final String description;

    public MapSource(ModelConfig config, Map<String, RawTensor> tensors, String description) {
      this.config = config;
      this.tensors = tensors;
      this.description = description;
    }

    @Override
    public ModelConfig config() {
      return config;
    }

    @Override
    public Set<String> names() {
      return tensors.keySet();
    }

    @Override
    public Shape shape(String name) {
      RawTensor t = tensors.get(name);
      if (t == null) {
        throw new IllegalArgumentException(description + ": no tensor " + name);
      }
      return new Shape(t.shape());
    }

    @Override
    public NDArray load(String name, NDManager manager, DataType dtype) {
      NDArray a = tensors.get(name).toArray(manager);
      if (a.getDataType() == dtype) {
        return a;
      }
      NDArray cast = a.toType(dtype, false);
      a.close();
      return cast;
    }

    @Override
    public String description() {
      return description;
    }

    @Override
    public void close() {}
  }

  public final String name;
  public final ModelConfig config;
  public final Map<String, RawTensor> weights;
  public final Map<String, RawTensor> expected;

  private FixtureModel(String name) {
    Path dir = ROOT.resolve(name);
    this.name = name;
    this.config = readConfig(dir.resolve("config.json"));
    this.weights = readSafetensors(dir.resolve("model.safetensors"));
    this.expected = readSafetensors(dir.resolve("expected.safetensors"));
  }

  public static FixtureModel load(String name) {
    return new FixtureModel(name);
  }

  public static List<String> all() {
    try (var s = Files.list(ROOT)) {
      List<String> names = new ArrayList<>();
      s.filter(Files::isDirectory).forEach(p -> names.add(p.getFileName().toString()));
      names.sort(null);
      return names;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public WeightSource source() {
    return new MapSource(
        config, weights, ROOT.resolve(name).resolve("model.safetensors").toString());
  }

  public NDArray expected(String key, NDManager manager) {
    return expected.get(key).toArray(manager);
  }
}
