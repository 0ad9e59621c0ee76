package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;

/**
 * Builds each linear module of a model as it is loaded, one weight at a time, so a quantizing
 * factory never holds more than one full-precision weight.
 */
@FunctionalInterface
public interface LinearFactory {

  /**
   * @param name HF module path without ".weight", e.g. "model.layers.3.self_attn.q_proj" or
   *     "transformer.h.0.self_attention.query_key_value"
   * @param weight (outFeatures, inFeatures), float32 or float16; the factory takes ownership
   * @param bias (outFeatures) or null; the factory takes ownership
   */
  Linear create(String name, NDArray weight, NDArray bias);
}
