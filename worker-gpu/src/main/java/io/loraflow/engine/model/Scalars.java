package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Scalar operands made on the device. DJL's {@code x.mul(2.0f)} builds the scalar on the host and
 * copies it to x's device; on a GPU that copy waits for every queued kernel (a full stream sync per
 * scalar op), so the host can never run ahead of the GPU. A 0-d {@code full} is a fill kernel on
 * the device instead: no copy, no wait.
 *
 * <p>It is also the only safe scalar in a differentiable op on the CPU. DJL makes a Java-number
 * operand with {@code manager.create(n)}: a tensor over a direct ByteBuffer that only its Java
 * object keeps alive, closed right after the op. Autograd saves that tensor for the backward pass
 * (MulBackward keeps the other factor), and once a GC frees the buffer, backward reads freed
 * memory: NaN gradients and skipped steps that depend on GC timing. A {@code full} tensor is
 * torch's own memory, kept alive by autograd's reference (GcPressureTest).
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
