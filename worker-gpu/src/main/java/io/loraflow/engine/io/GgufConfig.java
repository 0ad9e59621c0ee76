package io.loraflow.engine.io;

import io.loraflow.engine.model.ModelConfig;
import io.loraflow.engine.model.ModelConfig.Family;
import io.loraflow.engine.model.ModelConfig.RopeScaling;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** GGUF metadata ({@code <arch>.*} and {@code tokenizer.ggml.*} keys) to {@link ModelConfig}. */
public final class GgufConfig {

  /** Architectures whose GGUF layout is the Llama block (names mapped by GgufWeightSource). */
  static final Set<String> LLAMA_ARCHS = Set.of("llama", "qwen2");

  private GgufConfig() {}

  public static ModelConfig translate(GgufFile gguf) {
    String arch = gguf.string("general.architecture");
    if (arch == null || !LLAMA_ARCHS.contains(arch)) {
      throw ModelFormatException.inFile(
          gguf.file(),
          "general.architecture '"
              + arch
              + "' is not supported from GGUF (supported: llama, qwen2); use the model's HF"
              + " directory instead");
    }
    if (gguf.tensors().containsKey("rope_freqs.weight")) {
      throw ModelFormatException.inTensor(
          gguf.file(),
          "rope_freqs.weight",
          "Llama 3.1-style rope scaling baked into rope_freqs is not supported from GGUF; use the"
              + " model's HF directory");
    }
    int hidden = need(gguf, arch + ".embedding_length");
    int heads = need(gguf, arch + ".attention.head_count");
    List<Object> tokens = gguf.array("tokenizer.ggml.tokens");
    int vocab = (int) gguf.integer(arch + ".vocab_size", tokens != null ? tokens.size() : -1);
    if (vocab <= 0) {
      GgufFile.TensorInfo embd = gguf.tensors().get("token_embd.weight");
      vocab = embd == null ? -1 : (int) embd.dims()[1];
    }
    String scalingType = gguf.string(arch + ".rope.scaling.type");
    RopeScaling scaling = null;
    if (scalingType != null && !scalingType.equals("none")) {
      if (!scalingType.equals("linear")) {
        throw ModelFormatException.inFile(
            gguf.file(),
            arch + ".rope.scaling.type '" + scalingType + "' is not supported (supported: linear)");
      }
      scaling = new RopeScaling("linear", gguf.real(arch + ".rope.scaling.factor", 1.0), 0, 0, 0);
    }
    boolean qwen = arch.equals("qwen2");
    return new ModelConfig(
        Family.LLAMA,
        vocab,
        hidden,
        need(gguf, arch + ".feed_forward_length"),
        need(gguf, arch + ".block_count"),
        heads,
        (int) gguf.integer(arch + ".attention.head_count_kv", heads),
        (int) gguf.integer(arch + ".attention.key_length", hidden / heads),
        (int) gguf.integer(arch + ".context_length", 2048),
        gguf.real(arch + ".attention.layer_norm_rms_epsilon", 1e-6),
        gguf.real(arch + ".rope.freq_base", 10000.0),
        scaling,
        !gguf.tensors().containsKey("output.weight"),
        qwen || gguf.tensors().containsKey("blk.0.attn_q.bias"),
        gguf.tensors().containsKey("blk.0.attn_output.bias"),
        gguf.tensors().containsKey("blk.0.ffn_up.bias"),
        null,
        0,
        "silu",
        (int) gguf.integer("tokenizer.ggml.bos_token_id", -1),
        eosIds(gguf));
  }

  /** eos, then end-of-turn / end-of-message ids when the file names them (Llama 3). */
  static List<Integer> eosIds(GgufFile gguf) {
    Set<Integer> ids = new LinkedHashSet<>();
    for (String key : List.of("eos_token_id", "eot_token_id", "eom_token_id")) {
      long id = gguf.integer("tokenizer.ggml." + key, -1);
      if (id >= 0) {
        ids.add((int) id);
      }
    }
    return new ArrayList<>(ids);
  }

  private static int need(GgufFile gguf, String key) {
    long v = gguf.integer(key, -1);
    if (v <= 0) {
      throw ModelFormatException.inFile(gguf.file(), "metadata key " + key + " missing or <= 0");
    }
    return (int) v;
  }
}
