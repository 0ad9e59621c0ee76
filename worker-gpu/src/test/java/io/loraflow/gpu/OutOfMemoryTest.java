package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.EngineException;
import io.loraflow.engine.train.TrainConfig;
import io.loraflow.workflows.FailureTypes;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutOfMemoryTest {

  static TrainConfig config(int batch, int accum) {
    TrainConfig.Builder b = TrainConfig.defaults().toBuilder();
    b.batchSize = batch;
    b.gradAccumulation = accum;
    b.maxSeqLen = 512;
    return b.build();
  }

  @Test
  void recognisesTheAllocatorsMessagesOnly() {
    assertTrue(
        OutOfMemory.is(
            new RuntimeException(
                "wrapped",
                new EngineException(
                    "CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 79.2 GiB total)"))));
    assertTrue(
        OutOfMemory.is(
            new EngineException(
                "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory:"
                    + " you tried to allocate 1099511627776 bytes")));
    assertFalse(OutOfMemory.is(new EngineException("shape mismatch [2, 3] vs [3, 2]")));
    assertFalse(OutOfMemory.is(new RuntimeException(new OutOfMemoryError("Java heap space"))));
  }

  @Test
  void fallbackKeepsTheEffectiveBatch() {
    TrainConfig c = config(8, 2);
    TrainConfig f = OutOfMemory.fallback(c).orElseThrow();
    assertEquals(4, f.batchSize());
    assertEquals(4, f.gradAccumulation());
    assertEquals(c.batchSize() * c.gradAccumulation(), f.batchSize() * f.gradAccumulation());
    assertEquals("micro-batch 8 x accumulation 2 -> 4 x 4", OutOfMemory.describe(c, f));
    assertTrue(OutOfMemory.fallback(config(1, 16)).isEmpty());
  }

  @Test
  void theFailureSaysWhatToLower() {
    var big = OutOfMemory.failure(config(8, 1), "gpu(0)", "micro-batch 8", null);
    assertEquals(FailureTypes.OUT_OF_MEMORY, big.getType());
    assertTrue(big.isNonRetryable());
    assertTrue(big.getOriginalMessage().contains("lower training.batchSize (now 8"));
    var one = OutOfMemory.failure(config(1, 8), "gpu(0)", "micro-batch 1", null);
    assertTrue(one.getOriginalMessage().contains("lower training.maxSeqLen (now 512)"));
  }

  static EngineException cudaOom() {
    return new EngineException("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0)");
  }

  /** Runs withFallback over an attempt that fails at micro-batches above {@code fitsAt}. */
  static List<String> tried(
      TrainConfig asked, boolean allowed, int fitsAt, boolean loaded, boolean checkpointFirst)
      throws Exception {
    List<String> log = new ArrayList<>();
    String r =
        OutOfMemory.withFallback(
            asked,
            allowed,
            "gpu(0)",
            "smol",
            () -> false,
            (from, to) -> log.add("fallback " + OutOfMemory.describe(from, to)),
            (c, reached) -> {
              log.add("attempt " + c.batchSize() + "x" + c.gradAccumulation());
              reached.opened = loaded;
              reached.checkpointed = checkpointFirst;
              if (c.batchSize() > fitsAt) {
                throw new IllegalStateException("step failed", cudaOom());
              }
              return "trained at " + c.batchSize() + "x" + c.gradAccumulation();
            });
    log.add(r);
    return log;
  }

  @Test
  void fallbackHalvesTheMicroBatchUntilAStepFits() throws Exception {
    assertEquals(
        List.of(
            "attempt 8x1",
            "fallback micro-batch 8 x accumulation 1 -> 4 x 2",
            "attempt 4x2",
            "fallback micro-batch 4 x accumulation 2 -> 2 x 4",
            "attempt 2x4",
            "trained at 2x4"),
        tried(config(8, 1), true, 2, true, false));
  }

  @Test
  void noFallbackAtMicroBatchOneAfterACheckpointWhileLoadingOrWhenOff() {
    ApplicationFailure one =
        assertThrows(ApplicationFailure.class, () -> tried(config(2, 1), true, 0, true, false));
    assertEquals(FailureTypes.OUT_OF_MEMORY, one.getType());
    assertTrue(one.isNonRetryable());
    assertTrue(one.getOriginalMessage().contains("micro-batch is already 1"), one.getMessage());
    assertTrue(one.getOriginalMessage().contains("(micro-batch 1, max sequence 512)"));

    ApplicationFailure checkpointed =
        assertThrows(ApplicationFailure.class, () -> tried(config(8, 1), true, 1, true, true));
    assertTrue(checkpointed.getOriginalMessage().contains("lower training.batchSize (now 8"));

    ApplicationFailure loading =
        assertThrows(ApplicationFailure.class, () -> tried(config(8, 1), true, 1, false, false));
    assertTrue(loading.getOriginalMessage().contains("loading base model smol"));

    ApplicationFailure off =
        assertThrows(ApplicationFailure.class, () -> tried(config(8, 1), false, 1, true, false));
    assertTrue(off.getOriginalMessage().contains("lower training.batchSize (now 8"));
  }

  @Test
  void otherFailuresAndStalledAttemptsPassThroughUnchanged() {
    IllegalStateException shape = new IllegalStateException("shape mismatch");
    assertSame(
        shape,
        assertThrows(
            IllegalStateException.class,
            () ->
                OutOfMemory.withFallback(
                    config(8, 1),
                    true,
                    "cpu()",
                    "smol",
                    () -> false,
                    (a, b) -> {},
                    (c, reached) -> {
                      throw shape;
                    })));
    IllegalStateException stalled = new IllegalStateException("interrupted", cudaOom());
    assertSame(
        stalled,
        assertThrows(
            IllegalStateException.class,
            () ->
                OutOfMemory.withFallback(
                    config(8, 1),
                    true,
                    "cpu()",
                    "smol",
                    () -> true,
                    (a, b) -> {},
                    (c, reached) -> {
                      reached.opened = true;
                      throw stalled;
                    })));
  }
}
