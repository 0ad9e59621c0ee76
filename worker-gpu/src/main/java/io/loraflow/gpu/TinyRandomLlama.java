package io.loraflow.gpu;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.io.Safetensors;
import io.loraflow.engine.model.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * The alias {@code tiny-llama-random}: a 2-layer Llama (hidden 64, 4 heads, 2 kv heads) with seeded
 * random weights and SmolLM2's tokenizer, as an HF directory. Small enough for tests and load runs
 * on a CPU; always the same bytes (seed {@value #SEED}).
 */
final class TinyRandomLlama {
  static final long SEED = 1234;
  static final int HIDDEN = 64;
  static final int INTERMEDIATE = 128;
  static final int LAYERS = 2;
  static final int HEADS = 4;
  static final int KV_HEADS = 2;
  static final int HEAD_DIM = HIDDEN / HEADS;
  static final double INIT_STD = 0.02;

  private TinyRandomLlama() {}

  /** The directory {@code dir}, generated once (atomically) from SmolLM2's tokenizer. */
  static Path ensure(Path dir, Path smolGguf) {
    if (Files.isRegularFile(dir.resolve("model.safetensors"))) {
      return dir;
    }
    Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp-" + UUID.randomUUID());
    try (ModelFiles smol = ModelFiles.open(smolGguf)) {
      Files.createDirectories(tmp);
      Path tokDir = smol.tokenizerJson().getParent();
      Files.copy(tokDir.resolve("tokenizer.json"), tmp.resolve("tokenizer.json"));
      if (Files.isRegularFile(tokDir.resolve("tokenizer_config.json"))) {
        Files.copy(tokDir.resolve("tokenizer_config.json"), tmp.resolve("tokenizer_config.json"));
      }
      ModelConfig c = smol.config();
      writeConfig(tmp.resolve("config.json"), c.vocabSize(), c.bosTokenId(), c.eosTokenIds());
      writeWeights(tmp.resolve("model.safetensors"), c.vocabSize());
      try {
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException raced) {
        if (!Files.isRegularFile(dir.resolve("model.safetensors"))) {
          throw raced;
        }
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot generate " + dir, e);
    }
  }

  private static void writeConfig(Path file, int vocab, int bos, List<Integer> eos)
      throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode c = json.createObjectNode();
    c.putArray("architectures").add("LlamaForCausalLM");
    c.put("model_type", "llama");
    c.put("vocab_size", vocab);
    c.put("hidden_size", HIDDEN);
    c.put("intermediate_size", INTERMEDIATE);
    c.put("num_hidden_layers", LAYERS);
    c.put("num_attention_heads", HEADS);
    c.put("num_key_value_heads", KV_HEADS);
    c.put("head_dim", HEAD_DIM);
    c.put("max_position_embeddings", 2048);
    c.put("rms_norm_eps", 1e-5);
    c.put("rope_theta", 100000.0);
    c.put("tie_word_embeddings", true);
    c.put("hidden_act", "silu");
    c.put("torch_dtype", "float32");
    if (bos >= 0) {
      c.put("bos_token_id", bos);
    }
    if (eos.size() == 1) {
      c.put("eos_token_id", eos.get(0));
    } else {
      eos.forEach(c.withArray("eos_token_id")::add);
    }
    json.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), c);
  }

  /** HF Llama tensor names and shapes (out, in); norms are ones, everything else N(0, 0.02). */
  private static Map<String, long[]> shapes(int vocab) {
    Map<String, long[]> s = new LinkedHashMap<>();
    s.put("model.embed_tokens.weight", new long[] {vocab, HIDDEN});
    for (int l = 0; l < LAYERS; l++) {
      String p = "model.layers." + l + ".";
      s.put(p + "input_layernorm.weight", new long[] {HIDDEN});
      s.put(p + "self_attn.q_proj.weight", new long[] {HEADS * HEAD_DIM, HIDDEN});
      s.put(p + "self_attn.k_proj.weight", new long[] {KV_HEADS * HEAD_DIM, HIDDEN});
      s.put(p + "self_attn.v_proj.weight", new long[] {KV_HEADS * HEAD_DIM, HIDDEN});
      s.put(p + "self_attn.o_proj.weight", new long[] {HIDDEN, HEADS * HEAD_DIM});
      s.put(p + "post_attention_layernorm.weight", new long[] {HIDDEN});
      s.put(p + "mlp.gate_proj.weight", new long[] {INTERMEDIATE, HIDDEN});
      s.put(p + "mlp.up_proj.weight", new long[] {INTERMEDIATE, HIDDEN});
      s.put(p + "mlp.down_proj.weight", new long[] {HIDDEN, INTERMEDIATE});
    }
    s.put("model.norm.weight", new long[] {HIDDEN});
    return s;
  }

  /**
   * A float32 safetensors file written by {@link Safetensors}. The values are drawn from one seeded
   * stream in {@link #shapes} order (the file lists tensors by name), so the weights stay the same
   * whatever the file order.
   */
  private static void writeWeights(Path file, int vocab) {
    SplittableRandom random = new SplittableRandom(SEED);
    List<Safetensors.Pending> tensors = new ArrayList<>();
    for (Map.Entry<String, long[]> e : shapes(vocab).entrySet()) {
      boolean norm = e.getKey().endsWith("norm.weight");
      ByteBuffer buf =
          ByteBuffer.allocate((int) (4 * numel(e.getValue()))).order(ByteOrder.LITTLE_ENDIAN);
      while (buf.hasRemaining()) {
        buf.putFloat(norm ? 1f : (float) (gaussian(random) * INIT_STD));
      }
      buf.flip();
      tensors.add(
          new Safetensors.Pending(e.getKey(), DataType.FLOAT32, e.getValue(), buf::duplicate));
    }
    Safetensors.write(file, tensors, Map.of("format", "pt"));
  }

  private static double gaussian(SplittableRandom r) {
    // Box-Muller: SplittableRandom has no nextGaussian in Java 17
    double u1 = 1.0 - r.nextDouble();
    double u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
