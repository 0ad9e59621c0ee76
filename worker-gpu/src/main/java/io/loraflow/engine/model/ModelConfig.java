package io.loraflow.engine.model;

import java.util.List;
import java.util.Objects;

/**
 * The one validated description of a decoder-only model, translated once from HF {@code
 * config.json} or GGUF metadata. Weight names never appear here (they belong to the loaders).
 *
 * @param family which block layout to build
 * @param vocabSize rows of the embedding and the LM head
 * @param hiddenSize residual width H
 * @param intermediateSize MLP width (Llama gate/up/down; Falcon dense_h_to_4h, usually 4H)
 * @param numLayers decoder blocks
 * @param numHeads query heads
 * @param numKvHeads key/value heads: numHeads for MHA, 1 for MQA (Falcon-7B), else GQA
 * @param headDim width of one head (usually hiddenSize / numHeads)
 * @param maxPositions longest sequence the model supports (max_position_embeddings)
 * @param normEps RMSNorm (Llama) or LayerNorm (Falcon) epsilon
 * @param ropeTheta rotary base frequency
 * @param ropeScaling rotary scaling or null for none
 * @param tieWordEmbeddings LM head shares the embedding matrix (SmolLM2)
 * @param qkvBias q/k/v projections carry a bias (Qwen2; Llama attention_bias; Falcon bias)
 * @param outputBias attention output projection carries a bias (Llama attention_bias; Falcon bias)
 * @param mlpBias MLP projections carry a bias (Llama mlp_bias; Falcon bias)
 * @param falcon Falcon-only layout switches, null for the Llama family
 * @param slidingWindow Mistral/Qwen2 sliding attention window in tokens, 0 for none
 * @param hiddenAct activation name as HF spells it ("silu", "gelu")
 * @param bosTokenId beginning-of-sequence id, -1 if none
 * @param eosTokenIds end-of-sequence ids (generation stops on any)
 */
public record ModelConfig(
    Family family,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int maxPositions,
    double normEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    boolean tieWordEmbeddings,
    boolean qkvBias,
    boolean outputBias,
    boolean mlpBias,
    FalconLayout falcon,
    int slidingWindow,
    String hiddenAct,
    int bosTokenId,
    List<Integer> eosTokenIds) {

  /** The block layouts the engine implements. */
  public enum Family {
    LLAMA,
    FALCON
  }

  /**
   * Falcon layout switches.
   *
   * @param parallelAttn attention and MLP read the same normed input and are summed
   * @param newDecoderArchitecture 40B/180B layout: grouped kv heads in query_key_value
   * @param numLnInParallelAttn 1 (one input_layernorm) or 2 (ln_attn + ln_mlp)
   */
  public record FalconLayout(
      boolean parallelAttn, boolean newDecoderArchitecture, int numLnInParallelAttn) {}

  /**
   * Rotary scaling as in HF {@code rope_scaling}.
   *
   * @param type "linear", "dynamic" or "llama3"
   * @param factor scale factor
   * @param lowFreqFactor llama3 only
   * @param highFreqFactor llama3 only
   * @param originalMaxPositions llama3 only (original_max_position_embeddings)
   */
  public record RopeScaling(
      String type,
      double factor,
      double lowFreqFactor,
      double highFreqFactor,
      int originalMaxPositions) {}

  public ModelConfig {
    Objects.requireNonNull(family, "family");
    eosTokenIds = List.copyOf(eosTokenIds);
    positive("vocab_size", vocabSize);
    positive("hidden_size", hiddenSize);
    positive("intermediate_size", intermediateSize);
    positive("num_hidden_layers", numLayers);
    positive("num_attention_heads", numHeads);
    positive("num_key_value_heads", numKvHeads);
    positive("head_dim", headDim);
    positive("max_position_embeddings", maxPositions);
    if (numHeads % numKvHeads != 0) {
      throw new IllegalArgumentException(
          "num_attention_heads "
              + numHeads
              + " is not a multiple of num_key_value_heads "
              + numKvHeads);
    }
    if (family == Family.FALCON && falcon == null) {
      throw new IllegalArgumentException("a Falcon config needs its FalconLayout");
    }
    if (!(normEps > 0)) {
      throw new IllegalArgumentException("norm epsilon must be > 0, got " + normEps);
    }
  }

  private static void positive(String key, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(key + " must be > 0, got " + value);
    }
  }
}
