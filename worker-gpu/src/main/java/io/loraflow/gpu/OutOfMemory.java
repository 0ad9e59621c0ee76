package io.loraflow.gpu;

import io.loraflow.engine.train.TrainConfig;
import io.loraflow.workflows.FailureTypes;
import io.temporal.failure.ApplicationFailure;
import java.util.Locale;
import java.util.Optional;

/**
 * Out-of-memory during training: recognised from the engine's error (PyTorch's CUDA and CPU
 * allocators), answered with the automatic fallback (half the micro-batch, twice the gradient
 * accumulation: the same effective batch and the same number of optimizer steps) while the
 * micro-batch can still shrink, otherwise with a non-retryable failure that says what to lower.
 */
final class OutOfMemory {
  private OutOfMemory() {}

  /** Whether {@code e} (or a cause) is an allocator's out-of-memory error. */
  static boolean is(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof OutOfMemoryError) {
        return false; // the JVM heap, not the device: not something a smaller batch fixes
      }
      String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
      if (m.contains("out of memory")
          || m.contains("can't allocate memory")
          || m.contains("cannot allocate memory")) {
        return true;
      }
    }
    return false;
  }

  /** The next smaller setting with the same effective batch, or empty at micro-batch 1. */
  static Optional<TrainConfig> fallback(TrainConfig c) {
    if (c.batchSize() <= 1) {
      return Optional.empty();
    }
    TrainConfig.Builder b = c.toBuilder();
    b.batchSize = c.batchSize() / 2;
    b.gradAccumulation = c.gradAccumulation() * 2;
    return Optional.of(b.build());
  }

  /** "micro-batch 8 x accumulation 1 -> 4 x 2" */
  static String describe(TrainConfig from, TrainConfig to) {
    return "micro-batch "
        + from.batchSize()
        + " x accumulation "
        + from.gradAccumulation()
        + " -> "
        + to.batchSize()
        + " x "
        + to.gradAccumulation();
  }

  /** The non-retryable failure when no fallback applies. */
  static ApplicationFailure failure(TrainConfig c, String device, String why, Throwable cause) {
    String advice =
        c.batchSize() > 1
            ? "lower training.batchSize (now "
                + c.batchSize()
                + "; raise training.gradAccum by the same factor to keep the effective batch) or"
                + " training.maxSeqLen (now "
                + c.maxSeqLen()
                + ")"
            : "micro-batch is already 1: lower training.maxSeqLen (now "
                + c.maxSeqLen()
                + ") or loraR, or use a smaller base model or a device with more memory";
    return ApplicationFailure.newNonRetryableFailureWithCause(
        "out of memory on " + device + " (" + why + "): " + advice,
        FailureTypes.OUT_OF_MEMORY,
        cause);
  }
}
