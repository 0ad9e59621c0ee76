package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.djl.Device;
import org.junit.jupiter.api.Test;

/**
 * The CPU side of MemoryProbe, and its answer for a GPU it cannot read: CI has no GPU, so DJL's
 * CudaUtils finds no CUDA runtime and the native extension is not loaded; the probe must say
 * "unknown" (-1, which keeps gradient checkpointing on), never throw into the training path.
 */
class MemoryProbeTest {

  @Test
  void aCpuReportsItsResidentSetAndNoDeviceSize() {
    long rss = MemoryProbe.bytesInUse(Device.cpu());
    assertTrue(rss > 16L << 20, "a JVM's resident set is more than 16 MiB, got " + rss);
    assertEquals(-1, MemoryProbe.totalBytes(Device.cpu()));
  }

  @Test
  void aGpuThatCannotBeReadIsUnknownNotAnError() {
    assumeFalse(ai.djl.util.cuda.CudaUtils.hasCuda(), "a CUDA machine reads its GPU");
    assertEquals(-1, MemoryProbe.totalBytes(Device.gpu()));
    assertEquals(-1, MemoryProbe.bytesInUse(Device.gpu()));
  }
}
