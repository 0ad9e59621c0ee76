package io.loraflow.engine.train;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import java.nio.file.Files;
import java.nio.file.Path;

/** Memory in use: the GPU's used bytes (cudaMemGetInfo) or this process's resident set on CPU. */
public final class MemoryProbe {

  private MemoryProbe() {}

  public static long bytesInUse(Device device) {
    try {
      if (device.isGpu()) {
        return CudaUtils.getGpuMemory(device).getCommitted();
      }
      String statm = Files.readString(Path.of("/proc/self/statm")).trim();
      return Long.parseLong(statm.split("\\s+")[1]) * 4096L;
    } catch (Exception | LinkageError e) {
      return -1;
    }
  }

  /** Total memory of a GPU (cudaMemGetInfo total), or -1 on a CPU or if unknown. */
  public static long totalBytes(Device device) {
    try {
      return device.isGpu() ? CudaUtils.getGpuMemory(device).getMax() : -1;
    } catch (Exception | LinkageError e) {
      return -1;
    }
  }
}
