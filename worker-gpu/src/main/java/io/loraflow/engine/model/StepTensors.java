package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;

/**
 * What every block of one forward call shares, all in the compute dtype: rotary cos/sin (B, 1, T,
 * headDim) and the additive attention mask (B|1, 1, T, S), 0 where a key is visible and blocked
 * (-Float.MAX_VALUE in fp32, -2^15 in fp16) where not ({@link Attention#causalMask}).
 */
public record StepTensors(NDArray cos, NDArray sin, NDArray mask) {}
