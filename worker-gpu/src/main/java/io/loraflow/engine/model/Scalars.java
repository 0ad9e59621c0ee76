package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Scalar operands made on the device. DJL's {@code x.mul(2.0f)} builds the scalar on the host and
 * copies it to x's device; on a GPU that copy waits for every queued kernel (a full stream sync per
 * scalar op), so the host can never run ahead of the GPU. A 0-d {@code full} is a fill kernel on
 * the device instead: no copy, no wait.
 */
public final class Scalars {

  private Scalars() {}

  /** A 0-d array holding {@code value} in x's dtype, on x's device, in x's manager. */
  public static NDArray like(NDArray x, double value) {
    return x.getManager().full(new Shape(), (float) value, x.getDataType());
  }

  /** x * value without a host-to-device copy. */
  public static NDArray mul(NDArray x, double value) {
    try (NDArray s = like(x, value)) {
      return x.mul(s);
    }
  }

  /** x + value without a host-to-device copy. */
  public static NDArray add(NDArray x, double value) {
    try (NDArray s = like(x, value)) {
      return x.add(s);
    }
  }
}
