package io.loraflow.engine.falcon;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.io.WeightSource;
import io.loraflow.engine.model.DecoderLM;
import io.loraflow.engine.model.DynamicKvCache;
import io.loraflow.engine.model.Linear;
import io.loraflow.engine.model.LinearFactory;
import io.loraflow.engine.model.ModelConfig;
import io.loraflow.engine.model.ModelConfig.FalconLayout;
import io.loraflow.engine.model.ModelLoadException;
import io.loraflow.engine.model.Norm;
import io.loraflow.engine.model.Rotary;
import io.loraflow.engine.model.StepTensors;
import io.loraflow.engine.model.WeightReader;

/**
 * Falcon as HF's FalconForCausalLM computes it (rotary, no ALiBi):
 *
 * <ul>
 *   <li>7B layout: multi-query attention, fused {@code query_key_value} = [q heads..., k, v],
 *       attention and MLP in parallel on one {@code input_layernorm}.
 *   <li>40B/180B "new decoder architecture": grouped kv heads, {@code query_key_value} laid out per
 *       kv group as [q_0..q_{g-1}, k, v] (HF FalconAttention._split_heads), {@code ln_attn} +
 *       {@code ln_mlp} when num_ln_in_parallel_attn == 2.
 *   <li>classic MHA layout (num_kv_heads == heads, not the new architecture): per head [q, k, v];
 *       sequential blocks with {@code post_attention_layernorm} when parallel_attn is false.
 * </ul>
 *
 * MLP: dense_h_to_4h -> GELU -> dense_4h_to_h; LayerNorms with bias.
 */
public final class FalconModel extends DecoderLM {

  private final FalconLayout layout;
  private final Layer[] layers;

  /** One decoder block's modules. */
  private record Layer(
      Norm attnNorm, // input_layernorm or ln_attn (H)
      Norm mlpNorm, // ln_mlp, post_attention_layernorm, or null (shares attnNorm's output)
      Linear qkv, // self_attention.query_key_value ((heads + 2 kvHeads) * D, H)
      Linear dense, // self_attention.dense (H, H)
      Linear up, // mlp.dense_h_to_4h (I, H)
      Linear down) {} // mlp.dense_4h_to_h (H, I)

  private FalconModel(ModelConfig config, DataType compute, Device device) {
    super(config, compute, device);
    this.layout = config.falcon();
    this.layers = new Layer[config.numLayers()];
  }

  /** Rejects layouts HF does not define, before anything is allocated. */
  private static void validate(ModelConfig config) {
    FalconLayout layout = config.falcon();
    if (config.headDim() * config.numHeads() != config.hiddenSize()) {
      throw new ModelLoadException(
          "Falcon needs hidden_size = heads * head_dim, got "
              + config.hiddenSize()
              + " vs "
              + config.numHeads()
              + " * "
              + config.headDim());
    }
    if (layout.newDecoderArchitecture() && !layout.parallelAttn()) {
      throw new ModelLoadException(
          "Falcon new_decoder_architecture with parallel_attn=false is not a layout HF defines");
    }
    if (!layout.newDecoderArchitecture()
        && config.numKvHeads() != 1
        && config.numKvHeads() != config.numHeads()) {
      throw new ModelLoadException(
          "Falcon without new_decoder_architecture needs multi-query (1 kv head) or "
              + config.numHeads()
              + " kv heads, got "
              + config.numKvHeads());
    }
  }

  /**
   * Reads every tensor of {@code source} (shapes checked against its config) and builds the model;
   * on any failure closes what was built and rethrows.
   */
  public static FalconModel load(
      WeightSource source, LinearFactory factory, DataType compute, Device device) {
    ModelConfig c = source.config();
    if (c.family() != ModelConfig.Family.FALCON) {
      throw new IllegalArgumentException("not a Falcon config: " + c.family());
    }
    validate(c);
    FalconModel model = new FalconModel(c, compute, device);
    try {
      model.read(new WeightReader(source, model.manager(), compute), factory);
      return model;
    } catch (RuntimeException | Error e) {
      model.close();
      throw e;
    }
  }

  private Norm layerNorm(WeightReader w, String module) {
    long h = config.hiddenSize();
    return Norm.layer(
        w.tensor(module + ".weight", h), w.tensor(module + ".bias", h), config.normEps());
  }

  private void read(WeightReader w, LinearFactory f) {
    long h = config.hiddenSize();
    long d = config.headDim();
    long qkvOut = (config.numHeads() + 2L * config.numKvHeads()) * d;
    long inter = config.intermediateSize();
    boolean bias = config.qkvBias();
    embedTokens = w.tensor("transformer.word_embeddings.weight", config.vocabSize(), h);
    for (int i = 0; i < layers.length; i++) {
      String p = "transformer.h." + i + ".";
      Norm attnNorm;
      Norm mlpNorm = null;
      if (!layout.parallelAttn()) {
        attnNorm = layerNorm(w, p + "input_layernorm");
        mlpNorm = layerNorm(w, p + "post_attention_layernorm");
      } else if (layout.newDecoderArchitecture() && layout.numLnInParallelAttn() == 2) {
        attnNorm = layerNorm(w, p + "ln_attn");
        mlpNorm = layerNorm(w, p + "ln_mlp");
      } else {
        attnNorm = layerNorm(w, p + "input_layernorm");
      }
      String a = p + "self_attention.";
      Linear qkv =
          register(a + "query_key_value", w.linear(f, a + "query_key_value", qkvOut, h, bias));
      Linear dense = register(a + "dense", w.linear(f, a + "dense", h, h, config.outputBias()));
      Linear up =
          register(
              p + "mlp.dense_h_to_4h",
              w.linear(f, p + "mlp.dense_h_to_4h", inter, h, config.mlpBias()));
      Linear down =
          register(
              p + "mlp.dense_4h_to_h",
              w.linear(f, p + "mlp.dense_4h_to_h", h, inter, config.mlpBias()));
      layers[i] = new Layer(attnNorm, mlpNorm, qkv, dense, up, down);
    }
    finalNorm = layerNorm(w, "transformer.ln_f");
    if (!config.tieWordEmbeddings() || w.has("lm_head.weight")) {
      lmHead = register("lm_head", w.linear(f, "lm_head", config.vocabSize(), h, false));
    }
  }

  @Override
  protected NDArray blockBody(int layer, NDArray x, StepTensors shared, DynamicKvCache cache) {
    Layer l = layers[layer];
    NDArray attnIn = l.attnNorm().apply(x);
    NDArray fused = l.qkv().forward(attnIn);
    NDArray attended;
    if (layout.newDecoderArchitecture() || config.numKvHeads() == 1) {
      NDArray[] qkv = splitRotated(fused, shared);
      attended = attendRotated(layer, qkv[0], qkv[1], qkv[2], shared, cache);
    } else {
      NDArray[] qkv = splitHeads(fused);
      attended = attend(layer, qkv[0], qkv[1], qkv[2], shared, cache);
    }
    NDArray attn = l.dense().forward(attended);
    if (!layout.parallelAttn()) {
      NDArray residual = x.add(attn);
      return residual.add(l.down().forward(act.apply(l.up().forward(l.mlpNorm().apply(residual)))));
    }
    NDArray mlpIn = l.mlpNorm() == null ? attnIn : l.mlpNorm().apply(x);
    NDArray mlp = l.down().forward(act.apply(l.up().forward(mlpIn)));
    return mlp.add(attn).add(x); // HF order: (mlp + attention) + residual
  }

  /**
   * Grouped layouts ([q_0 .. q_{g-1}, k, v] per kv group): the q heads and the k head of a group
   * are adjacent, so one rotary pass covers q and k together (half the ops of rotating them apart).
   *
   * @return q (B, heads, T, D) and k (B, kvHeads, T, D) with rotary applied, v (B, kvHeads, T, D)
   */
  private NDArray[] splitRotated(NDArray fused, StepTensors shared) {
    long b = fused.getShape().get(0);
    long t = fused.getShape().get(1);
    long kvHeads = config.numKvHeads();
    long g = config.numHeads() / kvHeads;
    long d = config.headDim();
    NDArray grouped = fused.reshape(b, t, kvHeads, g + 2, d);
    NDArray qk =
        grouped
            .get(":, :, :, :" + (g + 1) + ", :")
            .reshape(b, t, kvHeads * (g + 1), d)
            .transpose(0, 2, 1, 3); // (B, kvHeads * (g + 1), T, D)
    NDArray rotated = Rotary.apply(qk, shared.cos(), shared.sin());
    NDArray q;
    NDArray k;
    if (kvHeads == 1) {
      q = rotated.get(":, :" + g); // (B, g, T, D)
      k = rotated.get(":, " + g + ":"); // (B, 1, T, D)
    } else {
      NDArray perGroup = rotated.reshape(b, kvHeads, g + 1, t, d);
      q = perGroup.get(":, :, :" + g).reshape(b, kvHeads * g, t, d);
      k = perGroup.get(":, :, " + g); // (B, kvHeads, T, D)
    }
    NDArray v = grouped.get(":, :, :, " + (g + 1) + ", :").transpose(0, 2, 1, 3);
    return new NDArray[] {q, k, v};
  }

  /**
   * The classic multi-head layout (per head [q, k, v]; the grouped layouts go through {@link
   * #splitRotated}): fused (B, T, 3 * heads * D) -> q, k, v (B, heads, T, D).
   */
  private NDArray[] splitHeads(NDArray fused) {
    long b = fused.getShape().get(0);
    long t = fused.getShape().get(1);
    NDArray perHead = fused.reshape(b, t, config.numHeads(), 3, config.headDim());
    return new NDArray[] {
      perHead.get(":, :, :, 0, :").transpose(0, 2, 1, 3),
      perHead.get(":, :, :, 1, :").transpose(0, 2, 1, 3),
      perHead.get(":, :, :, 2, :").transpose(0, 2, 1, 3)
    };
  }
}
