package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;

/**
 * What every block of one forward call shares: rotary cos/sin (B, 1, T, headDim) in the compute
 * dtype and the additive attention mask (B|1, 1, T, S) in the compute dtype. {@code causalOnly}:
 * the mask is exactly the causal one over T == S keys (no cache, no key padding, no sliding window
 * shorter than T), so fused attention may use its built-in causal masking instead.
 */
public record StepTensors(NDArray cos, NDArray sin, NDArray mask, boolean causalOnly) {}
