package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Map;

/**
 * A decoder-only language model on DJL, split at block boundaries so the training loop can
 * checkpoint activations per block and generation can run with a KV cache.
 *
 * <p>Shapes: B batch, T new tokens, S = past + T key positions, H hidden size, V vocab.
 */
public interface CausalLM extends AutoCloseable {

  ModelConfig config();

  /** Dtype of activations and frozen weights: FLOAT32 or FLOAT16 (never BFLOAT16 in DJL). */
  DataType computeType();

  /** ids (B, T) int64 -> hidden (B, T, H) in computeType. */
  NDArray embed(NDArray ids);

  /**
   * One decoder block.
   *
   * @param layer 0 .. numLayers-1
   * @param hidden (B, T, H)
   * @param step positions, mask and (optionally) the KV cache of this forward call
   * @return (B, T, H)
   */
  NDArray block(int layer, NDArray hidden, AttentionStep step);

  /** Final norm + LM head: hidden (B, T, H) -> logits (B, T, V) in computeType. */
  NDArray head(NDArray hidden);

  /**
   * Computes now what every block of a forward call with {@code step} over {@code batch} x {@code
   * t} tokens shares (rotary tables, masks), so that the call itself issues device ops only: a
   * CUDA-graph capture of the call must not copy from the host. {@code step} needs positions and no
   * cache. Default: nothing to prepare.
   */
  default void prepareStep(AttentionStep step, int batch, long t) {}

  /**
   * Whole forward: embed, all blocks, head.
   *
   * @param ids (B, T) int64
   * @param step positions, mask and cache for these tokens
   * @return logits (B, T, V)
   */
  default NDArray forward(NDArray ids, AttentionStep step) {
    NDArray h = embed(ids);
    for (int i = 0; i < config().numLayers(); i++) {
      h = block(i, h, step);
    }
    return head(h);
  }

  /** Every linear module by HF module path (for LoRA targeting and adapter export). */
  Map<String, Linear> linears();

  @Override
  void close();
}
