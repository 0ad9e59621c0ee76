package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.EngineException;
import io.loraflow.engine.train.TrainConfig;
import io.loraflow.workflows.FailureTypes;
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
}
