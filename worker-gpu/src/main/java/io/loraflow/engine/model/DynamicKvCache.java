package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * A KV cache that grows by concatenation: per layer keys and values (B, kvHeads, S, headDim),
 * rotated keys, in the compute dtype. Left padding is the caller's business (the key padding mask
 * of {@link AttentionStep} covers all S positions); the cache itself is padding-agnostic.
 *
 * <p>Owns a sub-manager of the one it is created from; every stored array lives there and the
 * replaced arrays are freed as the cache grows.
 */
public final class DynamicKvCache implements KvCache {

  private final NDManager manager;
  private final NDArray[] keys;
  private final NDArray[] values;

  public DynamicKvCache(int numLayers, NDManager parent) {
    this.manager = parent.newSubManager();
    this.keys = new NDArray[numLayers];
    this.values = new NDArray[numLayers];
  }

  /** Positions already stored for {@code layer} (the past length its next call sees). */
  public int length(int layer) {
    return keys[layer] == null ? 0 : (int) keys[layer].getShape().get(2);
  }

  /** Positions stored by a completed forward call (the last layer's length). */
  @Override
  public int length() {
    return length(keys.length - 1);
  }

  /**
   * Appends this call's keys and values and returns the whole history.
   *
   * @param k (B, kvHeads, T, headDim), v the same; on the first call for a layer the cache takes
   *     them over (attaches them to its manager)
   * @return {keys, values}, each (B, kvHeads, past + T, headDim); owned by the cache, valid until
   *     the next append to this layer or close
   */
  public NDArray[] append(int layer, NDArray k, NDArray v) {
    // the first call's arrays are taken over as they are (the caller's scope lets go of them)
    NDArray newK = keys[layer] == null ? k : keys[layer].concat(k, 2);
    NDArray newV = values[layer] == null ? v : values[layer].concat(v, 2);
    newK.attach(manager);
    newV.attach(manager);
    if (keys[layer] != null) {
      keys[layer].close();
      values[layer].close();
    }
    keys[layer] = newK;
    values[layer] = newV;
    return new NDArray[] {newK, newV};
  }

  @Override
  public void close() {
    manager.close();
  }
}
