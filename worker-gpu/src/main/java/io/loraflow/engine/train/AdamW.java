package io.loraflow.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.model.Scalars;
import io.loraflow.engine.nativeops.FastOps;
import io.loraflow.engine.quant.Codebook8;
import io.loraflow.engine.quant.DynamicMap8;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with decoupled weight decay, in torch's / bitsandbytes' form: p *= 1 - lr * wd; m = b1 m +
 * (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps *
 * sqrt(1 - b2^t)).
 *
 * <p>With {@code eightBit} the moments are stored like bitsandbytes' blockwise 8-bit Adam (the
 * engine behind paged_adamw_8bit): per block of 256 values an absmax and 8-bit codes of the dynamic
 * map (signed for m, unsigned for v). Each step dequantizes, updates in float32, applies the update
 * from the float32 values and re-quantizes. Tensors under 4096 elements keep float32 moments
 * (bitsandbytes' min_8bit_size).
 */
public final class AdamW implements Optimizer {

  static final int BLOCK = 256;
  static final int MIN_8BIT_SIZE = 4096;

  /** Padded elements of 8-bit moments updated together (bounds the step's temporaries). */
  static final long CHUNK = 1L << 20;

  private final long chunk;

  private final NDManager manager;
  private final List<String> names;
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final boolean eightBit;
  private final Codebook8 signed;
  private final Codebook8 unsigned;
  private final Map<String, NDArray> state = new LinkedHashMap<>();

  // 8-bit moments of all quantized parameters in one flat layout: parameter i owns codes
  // [offset_i, offset_i + blocks_i * 256) and absmax [offset_i / 256, ...); each segment is padded
  // to whole blocks, so no block straddles two parameters and the codes are exactly those of a
  // per-parameter optimizer. One update then costs a fixed number of ops for all parameters
  // instead of ~50 small ops (and 4 GPU syncs) per parameter. state() exposes per-parameter views.
  private final List<Integer> flatParams = new ArrayList<>(); // indices into the step lists
  private final List<Long> flatOffsets = new ArrayList<>();
  private final List<NDArray> flatPads = new ArrayList<>(); // zeros (pad) per flat param, or null
  private NDArray mCodes; // (total) uint8
  private NDArray mAbsmax; // (total / 256) float32
  private NDArray vCodes;
  private NDArray vAbsmax;

  /**
   * @param names one stable name per parameter, in the order {@link #step} receives them
   * @param params the parameters (for sizes and device), same order
   */
  public AdamW(
      NDManager manager,
      List<String> names,
      List<NDArray> params,
      TrainConfig config,
      boolean eightBit) {
    this(manager, names, params, config, eightBit, CHUNK);
  }

  /** As above, updating at most {@code chunk} padded 8-bit elements at a time (tests). */
  AdamW(
      NDManager manager,
      List<String> names,
      List<NDArray> params,
      TrainConfig config,
      boolean eightBit,
      long chunk) {
    this.chunk = chunk;
    this.manager = manager;
    this.names = List.copyOf(names);
    this.beta1 = config.adamBeta1();
    this.beta2 = config.adamBeta2();
    this.eps = config.adamEpsilon();
    this.weightDecay = config.weightDecay();
    this.eightBit = eightBit;
    this.signed = eightBit ? new Codebook8(DynamicMap8.signed(), manager) : null;
    this.unsigned = eightBit ? new Codebook8(DynamicMap8.unsigned(), manager) : null;
    long total = 0;
    for (int i = 0; i < names.size(); i++) {
      NDArray p = params.get(i);
      if (quantized(p)) {
        long padded = (p.size() + BLOCK - 1) / BLOCK * BLOCK;
        flatParams.add(i);
        flatOffsets.add(total);
        flatPads.add(
            padded == p.size()
                ? null
                : manager.zeros(new Shape(padded - p.size()), DataType.FLOAT32, p.getDevice()));
        total += padded;
      }
    }
    if (total > 0) {
      var device = params.get(flatParams.get(0)).getDevice();
      // code of 0.0 in each map, so the zero state dequantizes to exactly 0
      mCodes = zerosCodes(total, signed, device);
      vCodes = zerosCodes(total, unsigned, device);
      mAbsmax = manager.zeros(new Shape(total / BLOCK), DataType.FLOAT32, device);
      vAbsmax = manager.zeros(new Shape(total / BLOCK), DataType.FLOAT32, device);
    }
    int q = 0;
    for (int i = 0; i < names.size(); i++) {
      NDArray p = params.get(i);
      String n = names.get(i);
      if (quantized(p)) {
        long from = flatOffsets.get(q);
        long to = from + (p.size() + BLOCK - 1) / BLOCK * BLOCK;
        String codes = from + ":" + to;
        String blocks = (from / BLOCK) + ":" + (to / BLOCK);
        put(n + ".m.codes", mCodes.get(codes));
        put(n + ".m.absmax", mAbsmax.get(blocks));
        put(n + ".v.codes", vCodes.get(codes));
        put(n + ".v.absmax", vAbsmax.get(blocks));
        q++;
      } else {
        put(n + ".m", manager.zeros(p.getShape(), DataType.FLOAT32, p.getDevice()));
        put(n + ".v", manager.zeros(p.getShape(), DataType.FLOAT32, p.getDevice()));
      }
    }
  }

  private boolean quantized(NDArray p) {
    return eightBit && p.size() >= MIN_8BIT_SIZE;
  }

  private NDArray zerosCodes(long n, Codebook8 code, ai.djl.Device device) {
    float[] v = code.values().toFloatArray();
    int zero = 0;
    for (int i = 0; i < v.length; i++) {
      if (v[i] == 0f) {
        zero = i;
        break;
      }
    }
    NDArray z = manager.full(new Shape(n), zero, DataType.INT32, device);
    NDArray codes = z.toType(DataType.UINT8, false);
    codes.attach(manager);
    z.close();
    return codes;
  }

  private void put(String name, NDArray a) {
    a.attach(manager);
    state.put(name, a);
  }

  @Override
  public void step(List<NDArray> params, List<NDArray> grads, double lr, long step) {
    float[] corrected = biasCorrected(lr, step);
    float stepSize = corrected[0];
    float epsHat = corrected[1];
    if (!flatParams.isEmpty()) {
      stepFlat(params, grads, lr, stepSize, epsHat);
    }
    for (int i = 0; i < params.size(); i++) {
      NDArray p = params.get(i);
      if (quantized(p)) {
        continue;
      }
      NDArray g = grads.get(i);
      String n = names.get(i);
      try (NDManager scope = manager.newSubManager(p.getDevice())) {
        g.tempAttach(scope);
        NDArray m = state.get(n + ".m");
        NDArray v = state.get(n + ".v");
        m.tempAttach(scope);
        v.tempAttach(scope);
        NDArray flatG = g.reshape(m.getShape());
        NDArray update = moments(m, v, flatG, stepSize, epsHat);
        p.tempAttach(scope);
        decay(p, lr);
        p.subi(update.reshape(p.getShape()));
      }
    }
  }

  /**
   * {stepSize, epsHat} of step {@code step} (1-based): lr * sqrt(1 - b2^t) / (1 - b1^t) and eps *
   * sqrt(1 - b2^t), the bias corrections folded into two float32 scalars (both step paths).
   */
  private float[] biasCorrected(double lr, long step) {
    double c1 = 1 - Math.pow(beta1, step);
    double c2 = Math.sqrt(1 - Math.pow(beta2, step));
    return new float[] {(float) (lr * c2 / c1), (float) (eps * c2)};
  }

  /**
   * m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2 in place; returns stepSize * m / (sqrt(v) +
   * epsHat). Scalars are made on the device (Scalars): a host scalar costs a GPU sync per op.
   */
  private static NDArray moments(
      NDArray m, NDArray v, NDArray g, float stepSize, float epsHat, double beta1, double beta2) {
    m.muli(Scalars.like(m, beta1)).addi(Scalars.mul(g, 1 - beta1));
    v.muli(Scalars.like(v, beta2)).addi(g.square().muli(Scalars.like(v, 1 - beta2)));
    return m.div(v.sqrt().addi(Scalars.like(v, epsHat))).muli(Scalars.like(m, stepSize));
  }

  private NDArray moments(NDArray m, NDArray v, NDArray g, float stepSize, float epsHat) {
    return moments(m, v, g, stepSize, epsHat, beta1, beta2);
  }

  private void decay(NDArray p, double lr) {
    if (weightDecay > 0) {
      p.muli(Scalars.like(p, 1 - lr * weightDecay));
    }
  }

  /**
   * One update of every 8-bit parameter through the flat moment layout, in runs of consecutive
   * parameters of at most {@code chunk} ({@link #CHUNK}) padded elements, so the temporaries
   * (float32 moments, the (n, 15) code search) stay bounded however many parameters there are (a
   * 70B all-linear LoRA has 207M).
   */
  private void stepFlat(
      List<NDArray> params, List<NDArray> grads, double lr, float stepSize, float epsHat) {
    int first = 0;
    while (first < flatParams.size()) {
      int end = first + 1;
      long from = flatOffsets.get(first);
      while (end < flatParams.size() && paddedEnd(params, end) - from <= chunk) {
        end++;
      }
      stepRun(params, grads, lr, stepSize, epsHat, first, end);
      first = end;
    }
  }

  /** End (exclusive) of flat parameter q's padded segment. */
  private long paddedEnd(List<NDArray> params, int q) {
    long size = params.get(flatParams.get(q)).size();
    return flatOffsets.get(q) + (size + BLOCK - 1) / BLOCK * BLOCK;
  }

  /** Updates flat parameters [first, end), whose padded segments are contiguous. */
  private void stepRun(
      List<NDArray> params,
      List<NDArray> grads,
      double lr,
      float stepSize,
      float epsHat,
      int first,
      int end) {
    long from = flatOffsets.get(first);
    long to = paddedEnd(params, end - 1);
    try (NDManager scope = manager.newSubManager(mCodes.getDevice())) {
      List<NDArray> pieces = new ArrayList<>();
      for (int q = first; q < end; q++) {
        NDArray flat = grads.get(flatParams.get(q)).reshape(-1);
        flat.attach(scope);
        pieces.add(flat);
        if (flatPads.get(q) != null) {
          pieces.add(flatPads.get(q));
        }
      }
      NDArray g = pieces.size() == 1 ? pieces.get(0) : NDArrays.concat(new NDList(pieces));
      g.attach(scope);
      String codeRange = from + ":" + to;
      String blockRange = (from / BLOCK) + ":" + (to / BLOCK);
      NDArray[] mState = {slice(mCodes, codeRange, scope), slice(mAbsmax, blockRange, scope)};
      NDArray[] vState = {slice(vCodes, codeRange, scope), slice(vAbsmax, blockRange, scope)};
      NDArray m = dequantize(mState[0], mState[1], signed, scope);
      NDArray v = dequantize(vState[0], vState[1], unsigned, scope);
      NDArray update = moments(m, v, g, stepSize, epsHat);
      for (int q = first; q < end; q++) {
        NDArray p = params.get(flatParams.get(q));
        long at = flatOffsets.get(q) - from;
        p.tempAttach(scope);
        decay(p, lr);
        p.subi(update.get(at + ":" + (at + p.size())).reshape(p.getShape()));
      }
      quantize(mState[0], mState[1], m, signed);
      quantize(vState[0], vState[1], v, unsigned);
    }
  }

  /** A view of {@code flat}[range] in {@code scope} (writes go to {@code flat}). */
  private static NDArray slice(NDArray flat, String range, NDManager scope) {
    NDArray view = flat.get(range);
    view.attach(scope);
    return view;
  }

  /** codes (blocks*256) + absmax (blocks), both in scope -> (blocks*256) float32. */
  private static NDArray dequantize(
      NDArray codes, NDArray absmax, Codebook8 code, NDManager scope) {
    return code.lookup(codes).reshape(-1, BLOCK).mul(absmax.reshape(-1, 1)).reshape(-1);
  }

  /** Stores x (blocks*256) as blockwise codes into {@code codes} and {@code absmax} in place. */
  private static void quantize(NDArray codes, NDArray absmax, NDArray x, Codebook8 code) {
    NDArray blocks = x.reshape(-1, BLOCK);
    NDArray newAbsmax = blocks.abs().max(new int[] {1});
    NDArray safe = newAbsmax.maximum(Scalars.like(newAbsmax, 1e-30)); // all-zero block -> 0
    NDArray scaled = blocks.div(safe.reshape(-1, 1)).clip(-1, 1).reshape(-1);
    NDArray newCodes = code.nearest(scaled);
    codes.set(new ai.djl.ndarray.index.NDIndex("..."), newCodes);
    absmax.set(new ai.djl.ndarray.index.NDIndex("..."), newAbsmax);
  }

  /**
   * True when {@link #stepFused} can run for these parameters: the GPU fast path is on for them.
   */
  public boolean fusedActiveFor(List<NDArray> params) {
    return !params.isEmpty() && FastOps.activeFor(params.get(0));
  }

  /**
   * The GPU twin of {@code grads *= coef; step(params, grads, lr, step)} followed by zeroing the
   * gradients: one native call (two kernels) updates every parameter in place from its own .grad,
   * with no per-parameter ops and no float32 copies of the moments (the plain path's chunked
   * temporaries). Same formulas and op order as {@link #step}; FastPathCheck compares the two.
   *
   * @param coef float32 device scalar, unscale x clip
   */
  public void stepFused(List<NDArray> params, NDArray coef, double lr, long step) {
    float[] corrected = biasCorrected(lr, step);
    float[] hyper = {
      (float) beta1,
      (float) (1 - beta1),
      (float) beta2,
      (float) (1 - beta2),
      corrected[0],
      corrected[1],
      (float) (1 - lr * weightDecay)
    };
    List<NDArray> params8 = new ArrayList<>();
    long[] offsets8 = new long[flatParams.size()];
    for (int q = 0; q < flatParams.size(); q++) {
      params8.add(params.get(flatParams.get(q)));
      offsets8[q] = flatOffsets.get(q);
    }
    List<NDArray> params32 = new ArrayList<>();
    List<NDArray> m32 = new ArrayList<>();
    List<NDArray> v32 = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      NDArray p = params.get(i);
      if (!quantized(p)) {
        params32.add(p);
        m32.add(state.get(names.get(i) + ".m"));
        v32.add(state.get(names.get(i) + ".v"));
      }
    }
    List<NDArray> state8 =
        params8.isEmpty()
            ? List.of()
            : List.of(
                mCodes,
                mAbsmax,
                vCodes,
                vAbsmax,
                signed.values(),
                signed.midpoints(),
                unsigned.values(),
                unsigned.midpoints());
    FastOps.adamwStep(
        params8, offsets8, state8, params32, m32, v32, coef, hyper, weightDecay > 0, true);
  }

  @Override
  public Map<String, NDArray> state() {
    return state;
  }

  @Override
  public void load(Map<String, NDArray> saved) {
    if (!saved.keySet().equals(state.keySet())) {
      throw new IllegalArgumentException(
          "optimizer state in the checkpoint has entries "
              + saved.keySet()
              + " but this run needs "
              + state.keySet()
              + " (was it written with another optimizer or LoRA config?)");
    }
    for (Map.Entry<String, NDArray> e : state.entrySet()) {
      NDArray from = saved.get(e.getKey());
      NDArray to = e.getValue();
      if (!from.getShape().equals(to.getShape()) || from.getDataType() != to.getDataType()) {
        throw new IllegalArgumentException(
            "optimizer state "
                + e.getKey()
                + " is "
                + from.getShape()
                + " "
                + from.getDataType()
                + ", expected "
                + to.getShape()
                + " "
                + to.getDataType());
      }
      to.set(new ai.djl.ndarray.index.NDIndex("..."), from.toDevice(to.getDevice(), false));
    }
  }

  @Override
  public void close() {
    state.values().forEach(NDArray::close);
    for (NDArray a : new NDArray[] {mCodes, mAbsmax, vCodes, vAbsmax}) {
      if (a != null) {
        a.close();
      }
    }
    flatPads.forEach(
        a -> {
          if (a != null) {
            a.close();
          }
        });
    if (signed != null) {
      signed.close();
      unsigned.close();
    }
  }
}
