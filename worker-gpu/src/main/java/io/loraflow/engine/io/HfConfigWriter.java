package io.loraflow.engine.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraflow.engine.model.ModelConfig;
import io.loraflow.engine.model.ModelConfig.Family;

/**
 * {@link ModelConfig} back to a transformers {@code config.json} (LlamaForCausalLM,
 * Qwen2ForCausalLM or FalconForCausalLM), the inverse of {@link HfConfig} for exported models.
 */
final class HfConfigWriter {

  private HfConfigWriter() {}

  static ObjectNode toJson(ModelConfig c, String torchDtype) {
    ObjectNode j = new ObjectMapper().createObjectNode();
    boolean qwen = c.family() == Family.LLAMA && c.qkvBias() && !c.outputBias();
    if (c.family() == Family.FALCON) {
      j.putArray("architectures").add("FalconForCausalLM");
      j.put("model_type", "falcon");
      j.put("num_kv_heads", c.numKvHeads());
      j.put("multi_query", !c.falcon().newDecoderArchitecture() && c.numKvHeads() == 1);
      j.put("new_decoder_architecture", c.falcon().newDecoderArchitecture());
      j.put("parallel_attn", c.falcon().parallelAttn());
      if (c.falcon().newDecoderArchitecture()) {
        j.put("num_ln_in_parallel_attn", c.falcon().numLnInParallelAttn());
      }
      j.put("bias", c.qkvBias());
      j.put("alibi", false);
      j.put("ffn_hidden_size", c.intermediateSize());
      j.put("layer_norm_epsilon", c.normEps());
      j.put("activation", c.hiddenAct());
    } else {
      j.putArray("architectures").add(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
      j.put("model_type", qwen ? "qwen2" : "llama");
      j.put("intermediate_size", c.intermediateSize());
      j.put("num_key_value_heads", c.numKvHeads());
      j.put("rms_norm_eps", c.normEps());
      j.put("hidden_act", c.hiddenAct());
      if (!qwen) {
        j.put("attention_bias", c.qkvBias());
        j.put("mlp_bias", c.mlpBias());
      }
      if (c.slidingWindow() > 0) {
        j.put("sliding_window", c.slidingWindow());
        j.put("use_sliding_window", true);
      }
    }
    j.put("vocab_size", c.vocabSize());
    j.put("hidden_size", c.hiddenSize());
    j.put("num_hidden_layers", c.numLayers());
    j.put("num_attention_heads", c.numHeads());
    j.put("head_dim", c.headDim());
    j.put("max_position_embeddings", c.maxPositions());
    j.put("rope_theta", c.ropeTheta());
    if (c.ropeScaling() != null) {
      ObjectNode s = j.putObject("rope_scaling");
      s.put("rope_type", c.ropeScaling().type());
      s.put("factor", c.ropeScaling().factor());
      if (c.ropeScaling().type().equals("llama3")) {
        s.put("low_freq_factor", c.ropeScaling().lowFreqFactor());
        s.put("high_freq_factor", c.ropeScaling().highFreqFactor());
        s.put("original_max_position_embeddings", c.ropeScaling().originalMaxPositions());
      }
    }
    j.put("tie_word_embeddings", c.tieWordEmbeddings());
    if (c.bosTokenId() >= 0) {
      j.put("bos_token_id", c.bosTokenId());
    }
    if (c.eosTokenIds().size() == 1) {
      j.put("eos_token_id", c.eosTokenIds().get(0));
    } else if (!c.eosTokenIds().isEmpty()) {
      c.eosTokenIds().forEach(j.withArray("eos_token_id")::add);
    }
    j.put("torch_dtype", torchDtype);
    return j;
  }
}
