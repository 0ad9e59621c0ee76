package io.loraflow.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.quant.Codebook8;
import io.loraflow.engine.quant.DynamicMap8;
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

  /**
   * @param names one stable name per parameter, in the order {@link #step} receives them
   * @param shapesOf sizes (element counts) of the parameters, same order
   */
  public AdamW(
      NDManager manager,
      List<String> names,
      List<NDArray> params,
      TrainConfig config,
      boolean eightBit) {
    this.manager = manager;
    this.names = List.copyOf(names);
    this.beta1 = config.adamBeta1();
    this.beta2 = config.adamBeta2();
    this.eps = config.adamEpsilon();
    this.weightDecay = config.weightDecay();
    this.eightBit = eightBit;
    this.signed = eightBit ? new Codebook8(DynamicMap8.signed(), manager) : null;
    this.unsigned = eightBit ? new Codebook8(DynamicMap8.unsigned(), manager) : null;
    for (int i = 0; i < names.size(); i++) {
      NDArray p = params.get(i);
      String n = names.get(i);
      if (quantized(p)) {
        long blocks = (p.size() + BLOCK - 1) / BLOCK;
        // code of 0.0 in each map, so the zero state dequantizes to exactly 0
        put(n + ".m.codes", zerosCodes(blocks * BLOCK, signed, p));
        put(
            n + ".m.absmax",
            manager.zeros(new ai.djl.ndarray.types.Shape(blocks), DataType.FLOAT32, p.getDevice()));
        put(n + ".v.codes", zerosCodes(blocks * BLOCK, unsigned, p));
        put(
            n + ".v.absmax",
            manager.zeros(new ai.djl.ndarray.types.Shape(blocks), DataType.FLOAT32, p.getDevice()));
      } else {
        put(n + ".m", manager.zeros(p.getShape(), DataType.FLOAT32, p.getDevice()));
        put(n + ".v", manager.zeros(p.getShape(), DataType.FLOAT32, p.getDevice()));
      }
    }
  }

  private boolean quantized(NDArray p) {
    return eightBit && p.size() >= MIN_8BIT_SIZE;
  }

  private NDArray zerosCodes(long n, Codebook8 code, NDArray like) {
    float[] v = code.values().toFloatArray();
    int zero = 0;
    for (int i = 0; i < v.length; i++) {
      if (v[i] == 0f) {
        zero = i;
        break;
      }
    }
    NDArray z =
        manager.full(new ai.djl.ndarray.types.Shape(n), zero, DataType.INT32, like.getDevice());
    NDArray codes = z.toType(DataType.UINT8, false);
    z.close();
    return codes;
  }

  private void put(String name, NDArray a) {
    a.attach(manager);
    state.put(name, a);
  }

  @Override
  public void step(List<NDArray> params, List<NDArray> grads, double lr, long step) {
    double c1 = 1 - Math.pow(beta1, step);
    double c2 = Math.sqrt(1 - Math.pow(beta2, step));
    float stepSize = (float) (lr * c2 / c1);
    float epsHat = (float) (eps * c2);
    for (int i = 0; i < params.size(); i++) {
      NDArray p = params.get(i);
      NDArray g = grads.get(i);
      String n = names.get(i);
      try (NDManager scope = manager.newSubManager(p.getDevice())) {
        g.tempAttach(scope);
        NDArray m;
        NDArray v;
        if (quantized(p)) {
          m = dequantize(n + ".m", signed, p.size(), scope);
          v = dequantize(n + ".v", unsigned, p.size(), scope);
        } else {
          m = state.get(n + ".m");
          v = state.get(n + ".v");
          m.tempAttach(scope);
          v.tempAttach(scope);
        }
        NDArray flatG = g.reshape(m.getShape());
        m.muli((float) beta1).addi(flatG.mul((float) (1 - beta1)));
        v.muli((float) beta2).addi(flatG.square().muli((float) (1 - beta2)));
        p.tempAttach(scope);
        if (weightDecay > 0) {
          p.muli((float) (1 - lr * weightDecay));
        }
        NDArray update = m.div(v.sqrt().addi(epsHat)).muli(stepSize);
        p.subi(update.reshape(p.getShape()));
        if (quantized(p)) {
          quantize(n + ".m", m, signed);
          quantize(n + ".v", v, unsigned);
        }
      }
    }
  }

  /** codes (blocks*256) + absmax (blocks) -> (size) float32. */
  private NDArray dequantize(String key, Codebook8 code, long size, NDManager scope) {
    NDArray codes = state.get(key + ".codes");
    NDArray absmax = state.get(key + ".absmax");
    codes.tempAttach(scope);
    absmax.tempAttach(scope);
    NDArray values = code.lookup(codes).reshape(-1, BLOCK).mul(absmax.reshape(-1, 1)).reshape(-1);
    return values.get("0:" + size);
  }

  /** Stores x (size) as blockwise codes, replacing the previous state arrays' contents. */
  private void quantize(String key, NDArray x, Codebook8 code) {
    NDArray codes = state.get(key + ".codes");
    NDArray absmax = state.get(key + ".absmax");
    long padded = codes.size();
    NDArray flat = x.reshape(-1);
    if (flat.size() < padded) {
      flat =
          flat.concat(
              flat.getManager()
                  .zeros(
                      new ai.djl.ndarray.types.Shape(padded - flat.size()),
                      DataType.FLOAT32,
                      flat.getDevice()));
    }
    NDArray blocks = flat.reshape(-1, BLOCK);
    NDArray newAbsmax = blocks.abs().max(new int[] {1});
    NDArray safe = newAbsmax.maximum(1e-30f); // an all-zero block scales to 0 anyway
    NDArray scaled = blocks.div(safe.reshape(-1, 1)).clip(-1, 1).reshape(-1);
    NDArray newCodes = code.nearest(scaled);
    codes.set(new ai.djl.ndarray.index.NDIndex("..."), newCodes);
    absmax.set(new ai.djl.ndarray.index.NDIndex("..."), newAbsmax);
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
    if (signed != null) {
      signed.close();
      unsigned.close();
    }
  }
}
