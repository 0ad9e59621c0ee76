package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;

/**
 * What attention needs for one forward call over T new tokens.
 *
 * @param positions (B, T) int64 absolute positions of the new tokens (rotary angles)
 * @param keyPadding (B, S) boolean/int, 1 where a key position holds a real token, 0 for left or
 *     right padding; null when nothing is padded. Causality is always applied on top.
 * @param cache the KV cache to read past keys from and append to, or null (no cache: S = T)
 */
public record AttentionStep(NDArray positions, NDArray keyPadding, KvCache cache) {}
