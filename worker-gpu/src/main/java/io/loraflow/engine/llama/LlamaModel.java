package io.loraflow.engine.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.io.WeightSource;
import io.loraflow.engine.model.Activations;
import io.loraflow.engine.model.DecoderLM;
import io.loraflow.engine.model.DynamicKvCache;
import io.loraflow.engine.model.Linear;
import io.loraflow.engine.model.LinearFactory;
import io.loraflow.engine.model.ModelConfig;
import io.loraflow.engine.model.Norm;
import io.loraflow.engine.model.StepTensors;
import io.loraflow.engine.model.WeightReader;
import io.loraflow.engine.nativeops.FastOps;
import io.loraflow.engine.nativeops.NativeLinear;
import java.util.List;
import java.util.function.BinaryOperator;

/**
 * The Llama family (Llama 2/3, Mistral, Qwen2, SmolLM2) as HF's LlamaForCausalLM computes it:
 * pre-norm blocks of RMSNorm -> attention (RoPE, GQA) -> residual, RMSNorm -> gated MLP ->
 * residual. Weight names are HF's ({@code model.layers.N.self_attn.q_proj.weight}, ...).
 */
public final class LlamaModel extends DecoderLM {

  private final Layer[] layers;
  private final BinaryOperator<NDArray> gated; // act(gate) * up

  /** One decoder block's modules. */
  private record Layer(
      Norm inputNorm, // input_layernorm (H)
      Linear q, // self_attn.q_proj (heads * D, H)
      Linear k, // self_attn.k_proj (kvHeads * D, H)
      Linear v, // self_attn.v_proj (kvHeads * D, H)
      Linear o, // self_attn.o_proj (H, heads * D)
      Norm postNorm, // post_attention_layernorm (H)
      Linear gate, // mlp.gate_proj (I, H)
      Linear up, // mlp.up_proj (I, H)
      Linear down, // mlp.down_proj (H, I)
      NDArray inputNormWeight, // (H), for the native block
      NDArray postNormWeight) {} // (H)

  private LlamaModel(ModelConfig config, DataType compute, Device device) {
    super(config, compute, device);
    this.layers = new Layer[config.numLayers()];
    this.gated = Activations.gated(config.hiddenAct());
  }

  /**
   * Reads every tensor of {@code source} (shapes checked against its config) and builds the model;
   * on any failure closes what was built and rethrows.
   */
  public static LlamaModel load(
      WeightSource source, LinearFactory factory, DataType compute, Device device) {
    ModelConfig c = source.config();
    if (c.family() != ModelConfig.Family.LLAMA) {
      throw new IllegalArgumentException("not a Llama-family config: " + c.family());
    }
    LlamaModel model = new LlamaModel(c, compute, device);
    try {
      model.read(new WeightReader(source, model.manager(), compute), factory);
      return model;
    } catch (RuntimeException | Error e) {
      model.close();
      throw e;
    }
  }

  private void read(WeightReader w, LinearFactory f) {
    long h = config.hiddenSize();
    long qDim = (long) config.numHeads() * config.headDim();
    long kvDim = (long) config.numKvHeads() * config.headDim();
    long inter = config.intermediateSize();
    double eps = config.normEps();
    embedTokens = w.tensor("model.embed_tokens.weight", config.vocabSize(), h);
    for (int i = 0; i < layers.length; i++) {
      String p = "model.layers." + i + ".";
      NDArray inputNormWeight = w.tensor(p + "input_layernorm.weight", h);
      Norm inputNorm = Norm.rms(inputNormWeight, eps);
      Linear q =
          register(
              p + "self_attn.q_proj",
              w.linear(f, p + "self_attn.q_proj", qDim, h, config.qkvBias()));
      Linear k =
          register(
              p + "self_attn.k_proj",
              w.linear(f, p + "self_attn.k_proj", kvDim, h, config.qkvBias()));
      Linear v =
          register(
              p + "self_attn.v_proj",
              w.linear(f, p + "self_attn.v_proj", kvDim, h, config.qkvBias()));
      Linear o =
          register(
              p + "self_attn.o_proj",
              w.linear(f, p + "self_attn.o_proj", h, qDim, config.outputBias()));
      NDArray postNormWeight = w.tensor(p + "post_attention_layernorm.weight", h);
      Norm postNorm = Norm.rms(postNormWeight, eps);
      Linear gate =
          register(
              p + "mlp.gate_proj", w.linear(f, p + "mlp.gate_proj", inter, h, config.mlpBias()));
      Linear up =
          register(p + "mlp.up_proj", w.linear(f, p + "mlp.up_proj", inter, h, config.mlpBias()));
      Linear down =
          register(
              p + "mlp.down_proj", w.linear(f, p + "mlp.down_proj", h, inter, config.mlpBias()));
      layers[i] =
          new Layer(
              inputNorm, q, k, v, o, postNorm, gate, up, down, inputNormWeight, postNormWeight);
    }
    finalNorm = Norm.rms(w.tensor("model.norm.weight", h), eps);
    if (!config.tieWordEmbeddings() || w.has("lm_head.weight")) {
      lmHead = register("lm_head", w.linear(f, "lm_head", config.vocabSize(), h, false));
    }
  }

  @Override
  protected NDArray blockBody(int layer, NDArray x, StepTensors shared, DynamicKvCache cache) {
    Layer l = layers[layer];
    if (cache == null && FastOps.blocksActiveFor(x)) {
      NativeLinear[] linears =
          NativeLinear.allOf(List.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down()));
      if (linears != null) { // the whole block in one native call (GPU fast path)
        boolean causal = shared.causalOnly();
        return FastOps.llamaBlock(
            x,
            l.inputNormWeight(),
            l.postNormWeight(),
            config.normEps(),
            linears,
            shared.cos(),
            shared.sin(),
            causal ? null : shared.mask(),
            causal,
            config.numHeads(),
            config.numKvHeads(),
            config.headDim());
      }
    }
    long b = x.getShape().get(0);
    long t = x.getShape().get(1);
    int d = config.headDim();

    NDArray h = l.inputNorm().apply(x);
    NDArray q = l.q().forward(h).reshape(b, t, config.numHeads(), d).transpose(0, 2, 1, 3);
    NDArray k = l.k().forward(h).reshape(b, t, config.numKvHeads(), d).transpose(0, 2, 1, 3);
    NDArray v = l.v().forward(h).reshape(b, t, config.numKvHeads(), d).transpose(0, 2, 1, 3);
    NDArray attn = attend(layer, q, k, v, shared, cache); // (B, T, heads * D)
    NDArray x1 = x.add(l.o().forward(attn));

    NDArray h2 = l.postNorm().apply(x1);
    NDArray mlp = l.down().forward(gated.apply(l.gate().forward(h2), l.up().forward(h2)));
    return x1.add(mlp);
  }
}
