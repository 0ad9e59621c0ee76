package io.loraflow.engine.train.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.io.WeightSource;
import io.loraflow.engine.model.ModelConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A model-shaped source of random weights, each generated on the device of the manager that asks
 * for it (N(0, 0.02) matrices, unit norm weights, zero biases), so a 70B-shaped model is never
 * materialized on the host: the LoRA factory quantizes each matrix on the GPU and drops it.
 */
final class RandomWeightSource implements WeightSource {

  private final ModelConfig config;
  private final Map<String, Shape> shapes = new LinkedHashMap<>();

  RandomWeightSource(ModelConfig config) {
    this.config = config;
    long h = config.hiddenSize();
    long inter = config.intermediateSize();
    long v = config.vocabSize();
    long d = config.headDim();
    if (config.family() == ModelConfig.Family.FALCON) {
      shapes.put("transformer.word_embeddings.weight", new Shape(v, h));
      for (int i = 0; i < config.numLayers(); i++) {
        String p = "transformer.h." + i + ".";
        shapes.put(p + "input_layernorm.weight", new Shape(h));
        shapes.put(p + "input_layernorm.bias", new Shape(h));
        long qkv = (config.numHeads() + 2L * config.numKvHeads()) * d;
        shapes.put(p + "self_attention.query_key_value.weight", new Shape(qkv, h));
        shapes.put(p + "self_attention.dense.weight", new Shape(h, h));
        shapes.put(p + "mlp.dense_h_to_4h.weight", new Shape(inter, h));
        shapes.put(p + "mlp.dense_4h_to_h.weight", new Shape(h, inter));
      }
      shapes.put("transformer.ln_f.weight", new Shape(h));
      shapes.put("transformer.ln_f.bias", new Shape(h));
    } else {
      shapes.put("model.embed_tokens.weight", new Shape(v, h));
      for (int i = 0; i < config.numLayers(); i++) {
        String p = "model.layers." + i + ".";
        shapes.put(p + "input_layernorm.weight", new Shape(h));
        shapes.put(p + "self_attn.q_proj.weight", new Shape(config.numHeads() * d, h));
        shapes.put(p + "self_attn.k_proj.weight", new Shape(config.numKvHeads() * d, h));
        shapes.put(p + "self_attn.v_proj.weight", new Shape(config.numKvHeads() * d, h));
        shapes.put(p + "self_attn.o_proj.weight", new Shape(h, config.numHeads() * d));
        shapes.put(p + "post_attention_layernorm.weight", new Shape(h));
        shapes.put(p + "mlp.gate_proj.weight", new Shape(inter, h));
        shapes.put(p + "mlp.up_proj.weight", new Shape(inter, h));
        shapes.put(p + "mlp.down_proj.weight", new Shape(h, inter));
      }
      shapes.put("model.norm.weight", new Shape(h));
      if (!config.tieWordEmbeddings()) {
        shapes.put("lm_head.weight", new Shape(v, h));
      }
    }
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public Set<String> names() {
    return shapes.keySet();
  }

  @Override
  public Shape shape(String name) {
    Shape s = shapes.get(name);
    if (s == null) {
      throw new IllegalArgumentException("random " + config.family() + " has no tensor " + name);
    }
    return s;
  }

  @Override
  public NDArray load(String name, NDManager manager, DataType dtype) {
    Shape s = shape(name);
    if (s.dimension() == 1) {
      return name.endsWith(".bias") ? manager.zeros(s, dtype) : manager.ones(s, dtype);
    }
    return manager.randomNormal(0f, 0.02f, s, dtype);
  }

  @Override
  public String description() {
    return "random " + config.family() + " weights";
  }

  @Override
  public void close() {}
}
