package io.loraflow.gpu;

import io.loraflow.engine.train.TrainConfig;
import io.loraflow.workflows.FailureTypes;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.util.Locale;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

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

  /**
   * What one training attempt at one config got to before it failed: a session that opened ran out
   * of memory in a step (not while loading the model), and an attempt that published a checkpoint
   * must resume with the config it checkpointed, never a smaller one.
   */
  static final class Reached {
    volatile boolean opened;
    volatile boolean checkpointed;
  }

  /** One training attempt at {@code config}; it marks in {@code reached} how far it got. */
  interface Attempt<T> {
    T run(TrainConfig config, Reached reached) throws IOException, InterruptedException;
  }

  /**
   * Runs {@code attempt} at {@code asked} and, when it runs out of memory in a training step before
   * its first checkpoint, again at the {@link #fallback} config (each smaller one reported to
   * {@code onFallback} first) until one fits or the micro-batch is 1; then {@link #failure}. An
   * out-of-memory while loading the model, after a checkpoint, with {@code fallbackAllowed} false,
   * or while {@code keepAsIs} says so (a stalled attempt), is not retried here.
   *
   * @param baseModel names the model in messages ("loading base model NAME")
   */
  static <T> T withFallback(
      TrainConfig asked,
      boolean fallbackAllowed,
      String device,
      String baseModel,
      BooleanSupplier keepAsIs,
      BiConsumer<TrainConfig, TrainConfig> onFallback,
      Attempt<T> attempt)
      throws IOException, InterruptedException {
    TrainConfig config = asked;
    while (true) {
      Reached reached = new Reached();
      try {
        return attempt.run(config, reached);
      } catch (RuntimeException e) {
        if (!is(e) || keepAsIs.getAsBoolean()) {
          throw e;
        }
        String where =
            reached.opened
                ? "micro-batch " + config.batchSize() + ", max sequence " + config.maxSeqLen()
                : "loading base model " + baseModel;
        Optional<TrainConfig> smaller =
            fallbackAllowed && reached.opened && !reached.checkpointed
                ? fallback(config)
                : Optional.empty();
        if (smaller.isEmpty()) {
          throw failure(config, device, where, e);
        }
        onFallback.accept(config, smaller.get());
        config = smaller.get();
      }
    }
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
