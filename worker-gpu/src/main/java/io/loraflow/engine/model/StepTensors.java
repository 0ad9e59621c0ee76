package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;

/**
 * What every block of one forward call shares: rotary cos/sin (B, 1, T, headDim) in the compute
 * dtype and the additive attention mask (B|1, 1, T, S) in fp32.
 */
public record StepTensors(NDArray cos, NDArray sin, NDArray mask) {}
