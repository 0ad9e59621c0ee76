package io.loraflow.engine.nativeops;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fused ops of the GPU fast path as NDArray functions. Callers ask {@link #activeFor} first and
 * otherwise run their plain DJL ops (the reference, and the only path on a CPU): every op here
 * computes the same function as the plain code beside its call site, within fp16 rounding (the GPU
 * tests compare the two). Results land in the manager of the first array argument, like a DJL op's;
 * autograd records them when grad mode is on.
 */
public final class FastOps {

  private static final Logger LOG = LoggerFactory.getLogger(FastOps.class);
  private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();
  private static volatile boolean enabled = true;
  private static volatile boolean blocks = true;

  private FastOps() {}

  /**
   * Turns the fast path off (or back on) for this JVM, e.g. to run the plain path beside it on the
   * same model in a comparison. On by default; it only takes effect where the library is loaded.
   */
  public static void setEnabled(boolean on) {
    enabled = on;
  }

  /**
   * Turns the whole-block native calls off (or on) while the single fused ops stay as {@link
   * #setEnabled} says: for comparing the two fast-path granularities. On by default.
   */
  public static void setBlocksEnabled(boolean on) {
    blocks = on;
  }

  /**
   * LoRA linears on the fast path as one custom autograd node (true: one node, five matrix products
   * in backward) or as ATen ops that autograd records one by one (false, the default and the
   * variant every bench row was measured with). No effect without the library.
   */
  public static void setLoraNode(boolean on) {
    if (NativeOps.loaded()) {
      NativeOps.setLoraMode(on ? 1 : 0);
    }
  }

  /** True when a whole decoder block may run as one native call for {@code x}. */
  public static boolean blocksActiveFor(NDArray x) {
    return blocks && activeFor(x);
  }

  /** True when the fused ops run for arrays like {@code x}: a CUDA array, library loaded, on. */
  public static boolean activeFor(NDArray x) {
    return enabled && x instanceof PtNDArray && x.getDevice().isGpu() && NativeOps.loaded();
  }

  /** The one line saying which path a model on {@code device} runs. */
  public static String describe(Device device) {
    if (!device.isGpu()) {
      return "GPU fast path off: device is " + device + "; running the plain DJL ops";
    }
    if (!enabled) {
      return "GPU fast path off: switched off in this JVM; running the plain DJL ops";
    }
    return NativeOps.status().describe();
  }

  /** Logs {@link #describe} once per device and JVM (the worker's "which path runs" line). */
  public static void logPathOnce(Device device) {
    if (LOGGED.add(device.toString())) {
      LOG.info(describe(device));
    }
  }

  /**
   * NF4 dequantization in one kernel (the double-quantized absmax decoded inline).
   *
   * @param packed (blocks * 32) uint8, two codes per byte, first in the high nibble
   * @param absmax (blocks) float32, or null when double-quantized
   * @param absmaxCodes (paddedBlocks) uint8 codes of the dynamic map, or null
   * @param absmaxScales (paddedBlocks / 256) float32, or null
   * @param pairTable (256, 2) float32: byte -> its two NF4 values
   * @param dynamicMap (256) float32, or null
   * @param dtype FLOAT16 or FLOAT32
   * @return the weight of {@code shape} in {@code dtype}, in {@code manager}
   */
  public static NDArray nf4Dequantize(
      NDArray packed,
      NDArray absmax,
      NDArray absmaxCodes,
      NDArray absmaxScales,
      float absmaxOffset,
      NDArray pairTable,
      NDArray dynamicMap,
      Shape shape,
      DataType dtype,
      NDManager manager) {
    if (dtype != DataType.FLOAT16 && dtype != DataType.FLOAT32) {
      throw new IllegalArgumentException(
          "native NF4 dequantization gives FLOAT16 or FLOAT32, got " + dtype);
    }
    long h =
        NativeOps.nf4Dequantize(
            handle(packed),
            handle(absmax),
            handle(absmaxCodes),
            handle(absmaxScales),
            absmaxOffset,
            handle(pairTable),
            handle(dynamicMap),
            shape.getShape(),
            dtype == DataType.FLOAT16);
    return wrap(manager, h);
  }

  /**
   * PEFT's LoRA forward on a frozen weight: linear(x, w, bias) + B(A(dropout(x))) * scaling, with A
   * (r, in) and B (out, r) float32 master weights cast to x's dtype (differentiably).
   *
   * @param x (.., in), w (out, in) in x's dtype, bias (out) or null
   * @return (.., out) in x's manager
   */
  public static NDArray loraLinear(
      NDArray x,
      NDArray w,
      NDArray bias,
      NDArray loraA,
      NDArray loraB,
      double scaling,
      double dropout,
      boolean training) {
    return wrap(
        x.getManager(),
        NativeOps.loraLinear(
            handle(x),
            handle(w),
            handle(bias),
            handle(loraA),
            handle(loraB),
            scaling,
            dropout,
            training));
  }

  /**
   * softmax(q k^T * scale + mask) v through ATen's fused attention (flash attention when causal
   * without a mask, the memory-efficient kernel with one), grouped kv heads as HF repeat_kv.
   *
   * @param q (B, heads, T, D), k and v (B, kvHeads, S, D)
   * @param mask additive (B or 1, 1, T, S), or null with {@code causal} (then T == S)
   * @return (B, T, heads * D) in q's manager
   */
  public static NDArray attention(
      NDArray q, NDArray k, NDArray v, NDArray mask, double scale, boolean causal) {
    if (mask == null && !causal) {
      throw new IllegalArgumentException("attention needs a mask or causal = true");
    }
    return wrap(
        q.getManager(),
        NativeOps.attention(handle(q), handle(k), handle(v), handle(mask), scale, causal));
  }

  /** HF LlamaRMSNorm: x (.., H) normalized in float32, rounded to x's dtype, times weight (H). */
  public static NDArray rmsNorm(NDArray x, NDArray weight, double eps) {
    return wrap(x.getManager(), NativeOps.rmsNorm(handle(x), handle(weight), eps));
  }

  /** x (B, heads, T, D) * cos + rotate_half(x) * sin, cos and sin (B, 1, T, D). */
  public static NDArray rotary(NDArray x, NDArray cos, NDArray sin) {
    return wrap(x.getManager(), NativeOps.rotary(handle(x), handle(cos), handle(sin)));
  }

  /** silu(gate) * up, both (.., I). */
  public static NDArray siluMul(NDArray gate, NDArray up) {
    return wrap(gate.getManager(), NativeOps.siluMul(handle(gate), handle(up)));
  }

  /**
   * A Llama-family block (LlamaModel.blockBody without a KV cache) in one native call; autograd
   * records its ATen ops as it would the Java path's.
   *
   * @param x (B, T, H) in the compute dtype
   * @param linears q, k, v, o, gate, up, down
   * @param mask additive (B or 1, 1, T, S), or null with causal
   * @return (B, T, H) in x's manager
   */
  public static NDArray llamaBlock(
      NDArray x,
      NDArray inputNorm,
      NDArray postNorm,
      double eps,
      NativeLinear[] linears,
      NDArray cos,
      NDArray sin,
      NDArray mask,
      boolean causal,
      int heads,
      int kvHeads,
      int headDim) {
    NativeLinear.Packed p = NativeLinear.pack(linears);
    return wrap(
        x.getManager(),
        NativeOps.llamaBlock(
            handle(x),
            handle(inputNorm),
            handle(postNorm),
            eps,
            p.handles(),
            p.offsets(),
            p.shapes(),
            p.lora(),
            handle(cos),
            handle(sin),
            handle(mask),
            causal,
            heads,
            kvHeads,
            headDim));
  }

  /**
   * A Falcon-7B-layout block (multi-query, parallel attention, one LayerNorm, no KV cache) in one
   * native call.
   *
   * @param linears query_key_value, dense, dense_h_to_4h, dense_4h_to_h
   */
  public static NDArray falconBlock(
      NDArray x,
      NDArray lnWeight,
      NDArray lnBias,
      double eps,
      NativeLinear[] linears,
      NDArray cos,
      NDArray sin,
      NDArray mask,
      boolean causal,
      int heads,
      int headDim) {
    NativeLinear.Packed p = NativeLinear.pack(linears);
    return wrap(
        x.getManager(),
        NativeOps.falconBlock(
            handle(x),
            handle(lnWeight),
            handle(lnBias),
            eps,
            p.handles(),
            p.offsets(),
            p.shapes(),
            p.lora(),
            handle(cos),
            handle(sin),
            handle(mask),
            causal,
            heads,
            headDim));
  }

  /**
   * torch's CUDA caching allocator figures for device {@code index}: {allocated, max allocated,
   * reserved, max reserved} bytes, or null without the library. {@code resetPeak} starts new maxima
   * after reading.
   */
  public static long[] memoryStats(int index, boolean resetPeak) {
    if (!NativeOps.loaded()) {
      return null;
    }
    return NativeOps.memoryStats(index, resetPeak);
  }

  /**
   * {free, total} bytes of CUDA device {@code index} (cudaMemGetInfo through the extension), or
   * null without the library.
   */
  public static long[] deviceMemory(int index) {
    if (!NativeOps.loaded()) {
      return null;
    }
    return NativeOps.deviceMemory(index);
  }

  /**
   * Sum of squares of the float32 gradients of {@code params} (the leaves), one native call: a
   * float32 scalar on their device, in {@code manager}. A leaf no gradient reached counts as 0.
   */
  public static NDArray gradSumSquares(List<NDArray> params, NDManager manager) {
    return wrap(manager, NativeOps.gradSumSquares(handles(params)));
  }

  /**
   * One AdamW update of every parameter in one native call (two kernels), gradients scaled by
   * {@code coef} first; see {@link NativeOps#adamwStep}. Plain twin: AdamW.step after g *= coef.
   */
  public static void adamwStep(
      List<NDArray> params8,
      long[] offsets8,
      List<NDArray> state8,
      List<NDArray> params32,
      List<NDArray> m32,
      List<NDArray> v32,
      NDArray coef,
      float[] hyper,
      boolean applyDecay,
      boolean zeroGrads) {
    NativeOps.adamwStep(
        handles(params8),
        offsets8,
        handles(state8),
        handles(params32),
        handles(m32),
        handles(v32),
        handle(coef),
        hyper,
        applyDecay,
        zeroGrads);
  }

  /**
   * True when the trainer may capture its micro-steps for arrays like {@code x} as CUDA graphs: the
   * fast path is active for it (a CUDA array, library loaded, on) and {@link #GRAPHS_ENV} is not
   * "off". See io.loraflow.engine.train.GraphedSteps.
   */
  public static boolean graphsActiveFor(NDArray x) {
    String onOff = System.getProperty(GRAPHS_PROPERTY, System.getenv(GRAPHS_ENV));
    boolean off =
        onOff != null
            && (onOff.equalsIgnoreCase("off")
                || onOff.equals("0")
                || onOff.equalsIgnoreCase("false"));
    return !off && blocksActiveFor(x);
  }

  /** Environment variable that turns CUDA graphs of training steps off ("off", "0", "false"). */
  public static final String GRAPHS_ENV = "LORAFLOW_CUDA_GRAPHS";

  /** System property that overrides {@link #GRAPHS_ENV} (benches: --no-cuda-graphs). */
  public static final String GRAPHS_PROPERTY = "loraflow.cuda.graphs";

  /** A fresh memory pool for one trainer's graphs. */
  public static long graphPool() {
    return NativeOps.graphPool();
  }

  /** Starts capturing this thread's CUDA work into a graph in {@code pool}; returns its handle. */
  public static long graphBegin(long pool) {
    return NativeOps.graphBegin(pool);
  }

  /** Ends a capture; the graph can be replayed from then on. */
  public static void graphEnd(long graph) {
    NativeOps.graphEnd(graph);
  }

  /** Abandons a failed capture; never throws. */
  public static void graphAbort(long graph) {
    NativeOps.graphAbort(graph);
  }

  /** Replays a captured graph on the current stream. */
  public static void graphReplay(long graph) {
    NativeOps.graphReplay(graph);
  }

  /** Frees a graph (0: no-op). */
  public static void graphFree(long graph) {
    NativeOps.graphFree(graph);
  }

  /** Each leaf's .grad data pointer (0 where it has none). */
  public static long[] gradPointers(List<NDArray> params) {
    return NativeOps.gradPointers(handles(params));
  }

  /** {@code dst} <- {@code src} in place, without autograd (same shape). */
  public static void copyInto(NDArray dst, NDArray src) {
    NativeOps.copyInto(handle(dst), handle(src));
  }

  /**
   * Makes the current CUDA stream busy for about {@code seconds} (a spinning kernel; at ~2 GHz, so
   * longer on a slower clock): what a hung CUDA call looks like to the host, for the stall-watchdog
   * check. Returns at once; the stream's next synchronization waits.
   */
  public static void gpuSleep(double seconds) {
    NativeOps.gpuSleep((long) (seconds * 2e9));
  }

  private static long[] handles(List<NDArray> arrays) {
    long[] out = new long[arrays.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = handle(arrays.get(i));
    }
    return out;
  }

  private static long handle(NDArray a) {
    if (a == null) {
      return 0;
    }
    if (!(a instanceof PtNDArray pt)) {
      throw new IllegalArgumentException(
          "the fast path needs PyTorch-engine arrays, got " + a.getClass());
    }
    return pt.getHandle();
  }

  private static NDArray wrap(NDManager manager, long handle) {
    return new PtNDArray((PtNDManager) manager, handle);
  }
}
