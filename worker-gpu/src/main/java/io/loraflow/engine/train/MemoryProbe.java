package io.loraflow.engine.train;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import io.loraflow.engine.nativeops.FastOps;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Memory in use: the GPU's used bytes (cudaMemGetInfo) or this process's resident set on CPU.
 *
 * <p>On a GPU it asks DJL's CudaUtils first, which loads {@code libcudart.so} through JNA, then
 * loraflow's native extension (the same cudaMemGetInfo, linked against torch's own CUDA runtime).
 * The first fails without JNA on the classpath (the GPU pipeline's jars of session 17 had lost
 * JNA's classes: it read -1, kept gradient checkpointing and so ran without CUDA graphs,
 * bench/results/durability-gpu.md) or when JNA finds no {@code libcudart.so} by that name (torch's
 * wheels ship it versioned only). The first failure is logged once with its cause, and later calls
 * (the Trainer asks once per optimizer step) go straight to the extension.
 */
public final class MemoryProbe {

  private static final Logger LOG = LoggerFactory.getLogger(MemoryProbe.class);

  private static volatile boolean cudaUtilsFailed;

  private MemoryProbe() {}

  public static long bytesInUse(Device device) {
    if (device.isGpu()) {
      long[] freeTotal = gpuFreeTotal(device);
      return freeTotal == null ? -1 : freeTotal[1] - freeTotal[0];
    }
    try {
      String statm = Files.readString(Path.of("/proc/self/statm")).trim();
      return Long.parseLong(statm.split("\\s+")[1]) * 4096L;
    } catch (Exception e) {
      return -1;
    }
  }

  /** Total memory of a GPU (cudaMemGetInfo total), or -1 on a CPU or if unknown. */
  public static long totalBytes(Device device) {
    if (!device.isGpu()) {
      return -1;
    }
    long[] freeTotal = gpuFreeTotal(device);
    return freeTotal == null ? -1 : freeTotal[1];
  }

  /** {free, total} bytes of a GPU, or null when neither CudaUtils nor the extension can tell. */
  private static long[] gpuFreeTotal(Device device) {
    if (cudaUtilsFailed) {
      return extensionFreeTotal(device);
    }
    try {
      MemoryUsage u = CudaUtils.getGpuMemory(device);
      return new long[] {u.getMax() - u.getCommitted(), u.getMax()};
    } catch (Exception | LinkageError e) {
      long[] ext = extensionFreeTotal(device);
      if (!cudaUtilsFailed) {
        cudaUtilsFailed = true;
        LOG.info(
            "GPU memory: DJL's CudaUtils failed ({}: {}); {}",
            e.getClass().getSimpleName(),
            e.getMessage(),
            ext != null
                ? "read through loraflow's native extension instead"
                : "the native extension is not loaded either: GPU memory unknown");
      }
      return ext;
    }
  }

  private static long[] extensionFreeTotal(Device device) {
    try {
      return FastOps.deviceMemory(device.getDeviceId());
    } catch (Exception | LinkageError e) {
      return null;
    }
  }
}
