package io.loraflow.engine.nativeops;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GPU fast path's native library ({@code worker-gpu/src/main/native}, libloraflow_native.so):
 * where it is, whether it loaded, and its JNI entry points. Every entry point takes DJL PtNDArray
 * handles (torch::Tensor*) and returns a new handle; {@link FastOps} wraps them as NDArrays.
 *
 * <p>Loaded at most once per JVM, on the first question about a CUDA array, and only when {@link
 * #LIBRARY_ENV} (or the system property {@link #LIBRARY_PROPERTY}) names an existing file and
 * {@link #SWITCH_ENV} is not "off". A missing file, a library that does not link against this
 * process's libtorch, an ABI version other than {@link #ABI_VERSION} or a build for another torch
 * version leave the fast path off with one log line saying why; the engine then runs its plain DJL
 * ops, which stay the reference. Never throws.
 */
public final class NativeOps {

  private static final Logger LOG = LoggerFactory.getLogger(NativeOps.class);

  /** Environment variable holding the path of libloraflow_native.so. */
  public static final String LIBRARY_ENV = "LORAFLOW_NATIVE_LIB";

  /** System property that overrides {@link #LIBRARY_ENV}. */
  public static final String LIBRARY_PROPERTY = "loraflow.native.lib";

  /** Environment variable that turns the fast path off when it is "off" (or "0", "false"). */
  public static final String SWITCH_ENV = "LORAFLOW_FASTPATH";

  /** The entry-point set this Java code calls; the library reports its own from abiVersion(). */
  static final int ABI_VERSION = 8;

  /** Why the fast path is on or off, and which library file was tried. */
  public record Status(boolean loaded, String library, String reason) {
    /** The one line the worker logs. */
    public String describe() {
      return loaded
          ? "GPU fast path on: native extension " + library + " (" + reason + ")"
          : "GPU fast path off: " + reason + "; running the plain DJL ops";
    }
  }

  private static volatile Status status;

  private NativeOps() {}

  /** The load result, loading on the first call. */
  public static Status status() {
    Status s = status;
    if (s == null) {
      synchronized (NativeOps.class) {
        s = status;
        if (s == null) {
          s = load(System.getenv(), System.getProperty(LIBRARY_PROPERTY));
          status = s;
          LOG.debug(s.describe()); // the one info line is FastOps.logPathOnce's
        }
      }
    }
    return s;
  }

  /** True once the library is loaded and checked. */
  public static boolean loaded() {
    return status().loaded();
  }

  /**
   * Decides and (when everything checks out) loads. Package-private for tests: {@code env} and the
   * property stand in for the process's own.
   */
  static Status load(Map<String, String> env, String property) {
    String onOff = env.getOrDefault(SWITCH_ENV, "");
    if (onOff.equalsIgnoreCase("off") || onOff.equals("0") || onOff.equalsIgnoreCase("false")) {
      return new Status(false, null, SWITCH_ENV + "=" + onOff);
    }
    String configured = property != null && !property.isBlank() ? property : env.get(LIBRARY_ENV);
    if (configured == null || configured.isBlank()) {
      return new Status(false, null, LIBRARY_ENV + " is not set");
    }
    Path path = Path.of(configured).toAbsolutePath();
    if (!Files.isRegularFile(path)) {
      return new Status(
          false,
          path.toString(),
          LIBRARY_ENV + " names " + path + ", which is not a file (build it with build.sh)");
    }
    try {
      // libtorch first: the library links against the libtorch DJL's engine has loaded
      ai.djl.engine.Engine.getEngine("PyTorch");
      System.load(path.toString());
    } catch (Throwable e) { // UnsatisfiedLinkError, engine errors: fall back, never crash
      return new Status(false, path.toString(), "cannot load " + path + ": " + e);
    }
    try {
      int abi = abiVersion();
      if (abi != ABI_VERSION) {
        return new Status(
            false,
            path.toString(),
            path
                + " has native ABI "
                + abi
                + ", this engine needs "
                + ABI_VERSION
                + "; rebuild it");
      }
      String builtFor = torchVersion();
      String running = runningTorchVersion();
      if (running != null && !sameRelease(builtFor, running)) {
        return new Status(
            false,
            path.toString(),
            path + " was built for torch " + builtFor + " but the engine runs " + running);
      }
      return new Status(true, path.toString(), "torch " + builtFor);
    } catch (Throwable e) { // a library without our entry points
      return new Status(false, path.toString(), path + " is not a loraflow native library: " + e);
    }
  }

  /** The libtorch release DJL runs, e.g. "2.11.0", or null when unknown. */
  private static String runningTorchVersion() {
    String v = System.getenv("PYTORCH_VERSION");
    if (v == null || v.isBlank()) {
      try {
        v = ai.djl.engine.Engine.getEngine("PyTorch").getVersion();
      } catch (RuntimeException e) {
        return null;
      }
    }
    return v;
  }

  /** "2.11.0" vs "2.11.0+cu130": same major.minor.patch. */
  static boolean sameRelease(String a, String b) {
    return Objects.equals(release(a), release(b));
  }

  private static String release(String v) {
    if (v == null) {
      return null;
    }
    int plus = v.indexOf('+');
    return (plus >= 0 ? v.substring(0, plus) : v).trim();
  }

  // ---- entry points (worker-gpu/src/main/native/loraflow_native.cc) ----

  static native int abiVersion();

  static native String torchVersion();

  /**
   * NF4 weight of {@code shape} in fp16 ({@code half}) or fp32, one kernel; absmax or (codes,
   * scales, dynamicMap) may be 0.
   */
  static native long nf4Dequantize(
      long packed,
      long absmax,
      long absmaxCodes,
      long absmaxScales,
      float absmaxOffset,
      long pairTable,
      long dynamicMap,
      long[] shape,
      boolean half);

  /** linear(x, w, bias) + linear(linear(dropout(x), A), B) * scaling; bias may be 0. */
  static native long loraLinear(
      long x, long w, long bias, long a, long b, double scaling, double dropout, boolean training);

  /** NF4 dequantization + (LoRA) linear in one call; a = 0 means the plain frozen linear. */
  static native long nf4LoraLinear(
      long x,
      long packed,
      long absmax,
      long absmaxCodes,
      long absmaxScales,
      float absmaxOffset,
      long pairTable,
      long dynamicMap,
      long[] shape,
      long bias,
      long a,
      long b,
      double scaling,
      double dropout,
      boolean training);

  /** ATen scaled_dot_product_attention: q (B,H,T,D), k/v (B,KV,S,D) -> (B,T,H*D); mask may be 0. */
  static native long attention(long q, long k, long v, long mask, double scale, boolean causal);

  /** HF LlamaRMSNorm of x (.., H) with weight (H). */
  static native long rmsNorm(long x, long weight, double eps);

  /** x * cos + rotate_half(x) * sin. */
  static native long rotary(long x, long cos, long sin);

  /** silu(gate) * up. */
  static native long siluMul(long gate, long up);

  /**
   * LlamaModel's block (no KV cache) in one call: x (B, T, H), norm weights (H), 7 linears (q, k,
   * v, o, gate, up, down) described by {@link NativeLinear#pack}, cos/sin (B, 1, T, D), mask or 0.
   */
  static native long llamaBlock(
      long x,
      long inputNorm,
      long postNorm,
      double eps,
      long[] linears,
      float[] offsets,
      long[] shapes,
      double[] lora,
      long cos,
      long sin,
      long mask,
      boolean causal,
      int heads,
      int kvHeads,
      int headDim);

  /**
   * FalconModel's 7B-layout block (multi-query, parallel attention, one LayerNorm) in one call: 4
   * linears (query_key_value, dense, dense_h_to_4h, dense_4h_to_h).
   */
  static native long falconBlock(
      long x,
      long lnWeight,
      long lnBias,
      double eps,
      long[] linears,
      float[] offsets,
      long[] shapes,
      double[] lora,
      long cos,
      long sin,
      long mask,
      boolean causal,
      int heads,
      int headDim);

  /** 0: LoRA linears as recorded ATen ops (the default); 1: as one custom autograd node. */
  static native void setLoraMode(int mode);

  /** {allocated, max allocated, reserved, max reserved} bytes of torch's CUDA caching allocator. */
  static native long[] memoryStats(int device, boolean resetPeak);

  /**
   * Sum of g^2 over the float32 gradients of {@code params} (leaves without one count as 0): a
   * float32 0-d tensor on their device.
   */
  static native long gradSumSquares(long[] params);

  /**
   * AdamW's update of every parameter in place, gradients times {@code coef} (a float32 device
   * scalar) first: {@code params8} through the flat 8-bit moments ({@code offsets8}: each one's
   * element offset there; {@code state8}: m codes, m absmax, v codes, v absmax, signed values,
   * signed midpoints, unsigned values, unsigned midpoints), {@code params32} through their float32
   * moments. hyper = {beta1, 1 - beta1, beta2, 1 - beta2, stepSize, epsHat, 1 - lr * wd}. With
   * {@code zeroGrads} the gradients are zeroed in place afterwards.
   */
  static native void adamwStep(
      long[] params8,
      long[] offsets8,
      long[] state8,
      long[] params32,
      long[] m32,
      long[] v32,
      long coef,
      float[] hyper,
      boolean applyDecay,
      boolean zeroGrads);

  /** A fresh memory-pool id that one trainer's CUDA graphs share. */
  static native long graphPool();

  /**
   * Starts capturing the calling thread's CUDA work (on a side stream, after the work its current
   * stream queued) into a new graph that allocates from {@code pool}; returns the graph's handle.
   */
  static native long graphBegin(long pool);

  /** Ends the capture and instantiates the graph; the thread's stream is its own again. */
  static native void graphEnd(long graph);

  /** Abandons a capture that failed (never throws); the thread's stream is its own again. */
  static native void graphAbort(long graph);

  /** Replays a captured graph on the calling thread's current stream. */
  static native void graphReplay(long graph);

  /** Frees a graph and its share of the pool (0 is a no-op). */
  static native void graphFree(long graph);

  /** The data pointer of each leaf's .grad, 0 where it has none. */
  static native long[] gradPointers(long[] params);

  /** dst <- src in place, without autograd (same shape). */
  static native void copyInto(long dst, long src);

  /**
   * Queues a kernel that spins for {@code cycles} SM clock cycles on the current stream (the
   * stall-watchdog check's stand-in for a hung CUDA call); returns at once.
   */
  static native void gpuSleep(long cycles);

  /** {free, total} bytes of CUDA device {@code device} (cudaMemGetInfo). */
  static native long[] deviceMemory(int device);
}
