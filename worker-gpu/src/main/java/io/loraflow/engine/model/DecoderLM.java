package io.loraflow.engine.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import io.loraflow.engine.nativeops.FastOps;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * What the decoder families share: token embedding, final norm, LM head (own or tied), rotary, the
 * per-call mask and cos/sin, and the per-block memory scope.
 *
 * <p>Memory: all weights live in this model's manager. Everything a block computes lives in a scope
 * below the manager of its input and is freed when the block returns, except its output, which
 * joins the input's manager (PyTorch's autograd graph keeps its own references, so backward still
 * works). Not thread-safe: one forward at a time per model.
 */
public abstract class DecoderLM implements CausalLM {

  protected final ModelConfig config;
  protected final DataType compute;
  protected final NDManager manager;
  protected final Rotary rotary;
  protected final UnaryOperator<NDArray> act; // the MLP activation (hidden_act)
  private final Map<String, Linear> linears = new LinkedHashMap<>();

  protected NDArray embedTokens; // (V, H)
  protected Norm finalNorm;
  protected Linear lmHead; // registered as "lm_head"; null when tied to embedTokens

  private AttentionStep memoStep;
  private int memoPast = -1;
  private long memoT = -1;
  private StepTensors memo;

  protected DecoderLM(ModelConfig config, DataType compute, Device device) {
    if (compute != DataType.FLOAT32 && compute != DataType.FLOAT16) {
      throw new IllegalArgumentException(
          "compute dtype must be FLOAT32 or FLOAT16, got " + compute);
    }
    this.config = config;
    this.compute = compute;
    // everything that can reject the config runs before any native memory is taken
    this.rotary = new Rotary(config);
    this.act = Activations.byName(config.hiddenAct());
    this.manager = NDManager.newBaseManager(device);
  }

  /** Keeps {@code linear} under its HF module path and returns it. */
  protected Linear register(String module, Linear linear) {
    linears.put(module, linear);
    return linear;
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public DataType computeType() {
    return compute;
  }

  public Device device() {
    return manager.getDevice();
  }

  /** The manager holding this model's weights (for creating inputs on the right device). */
  public NDManager manager() {
    return manager;
  }

  @Override
  public NDArray embed(NDArray ids) {
    NDArray ids64 = ids.toType(DataType.INT64, false);
    return ids64
        .getNDArrayInternal()
        .embedding(ids64, embedTokens, SparseFormat.DENSE)
        .singletonOrThrow();
  }

  @Override
  public NDArray head(NDArray hidden) {
    NDArray normed = finalNorm.apply(hidden);
    if (lmHead != null) {
      return lmHead.forward(normed);
    }
    return normed.getNDArrayInternal().linear(normed, embedTokens, null).singletonOrThrow();
  }

  @Override
  public final NDArray block(int layer, NDArray hidden, AttentionStep step) {
    if (layer < 0 || layer >= config.numLayers()) {
      throw new IndexOutOfBoundsException(
          "layer " + layer + " of a model with " + config.numLayers() + " layers");
    }
    DynamicKvCache cache = cacheOf(step);
    int past = cache == null ? 0 : cache.length(layer);
    NDManager caller = hidden.getManager();
    try (NDManager scope = caller.newSubManager()) {
      StepTensors shared = stepTensors(step, hidden, past, scope);
      hidden.tempAttach(scope);
      NDArray out = blockBody(layer, hidden, shared, cache);
      out.attach(caller);
      return out;
    }
  }

  /**
   * One decoder block; may allocate freely in the manager of {@code hidden}.
   *
   * @param hidden (B, T, H)
   * @return (B, T, H)
   */
  protected abstract NDArray blockBody(
      int layer, NDArray hidden, StepTensors shared, DynamicKvCache cache);

  /**
   * Rotary on q and k, cache append, attention.
   *
   * @param q (B, heads, T, D), k and v (B, kvHeads, T, D)
   * @return (B, T, heads * D)
   */
  protected NDArray attend(
      int layer, NDArray q, NDArray k, NDArray v, StepTensors shared, DynamicKvCache cache) {
    NDArray qr = Rotary.apply(q, shared.cos(), shared.sin());
    NDArray kr = Rotary.apply(k, shared.cos(), shared.sin());
    return attendRotated(layer, qr, kr, v, shared, cache);
  }

  /**
   * Cache append and attention for q and k that already carry their rotary embedding.
   *
   * @param qr (B, heads, T, D), kr and v (B, kvHeads, T, D)
   * @return (B, T, heads * D)
   */
  protected NDArray attendRotated(
      int layer, NDArray qr, NDArray kr, NDArray v, StepTensors shared, DynamicKvCache cache) {
    NDArray vv = v;
    if (cache != null) {
      NDArray[] kv = cache.append(layer, kr, v);
      kr = kv[0];
      vv = kv[1];
    }
    double scale = 1.0 / Math.sqrt(config.headDim());
    if (FastOps.activeFor(qr)) {
      // one fused kernel pair (flash / memory-efficient) instead of ~12 ops and (B, H, T, S) scores
      boolean causal = shared.causalOnly() && cache == null;
      return FastOps.attention(qr, kr, vv, causal ? null : shared.mask(), scale, causal);
    }
    return Attention.forward(qr, kr, vv, shared.mask(), scale);
  }

  private static DynamicKvCache cacheOf(AttentionStep step) {
    if (step == null || step.cache() == null) {
      return null;
    }
    if (step.cache() instanceof DynamicKvCache dynamic) {
      return dynamic;
    }
    throw new IllegalArgumentException(
        "this model needs a DynamicKvCache, got " + step.cache().getClass().getName());
  }

  /** cos/sin and mask of this call, computed once and reused by every block of the call. */
  private StepTensors stepTensors(AttentionStep step, NDArray hidden, int past, NDManager scope) {
    return stepTensors(step, (int) hidden.getShape().get(0), hidden.getShape().get(1), past, scope);
  }

  @Override
  public void prepareStep(AttentionStep step, int batch, long t) {
    if (step == null || step.positions() == null || step.cache() != null) {
      throw new IllegalArgumentException(
          "prepareStep needs positions and no KV cache (a training step), got " + step);
    }
    stepTensors(step, batch, t, 0, null);
  }

  private StepTensors stepTensors(
      AttentionStep step, int batch, long t, int past, NDManager scope) {
    if (step != null && step == memoStep && past == memoPast && t == memoT) {
      return memo;
    }
    NDArray positions = step == null ? null : step.positions();
    NDArray keyPadding = step == null ? null : step.keyPadding();
    boolean memoize = positions != null;
    NDManager home = memoize ? positions.getManager() : scope;
    if (positions == null) {
      positions = home.arange(past, past + (int) t).toType(DataType.INT64, false).reshape(1, t);
      positions = positions.broadcast(batch, t);
    }
    NDArray[] cs = rotary.cosSin(positions, compute);
    NDArray mask =
        Attention.causalMask(
            positions, batch, past, (int) t, keyPadding, config.slidingWindow(), compute);
    int window = config.slidingWindow();
    boolean causalOnly = past == 0 && keyPadding == null && (window <= 0 || t <= window);
    StepTensors shared = new StepTensors(cs[0], cs[1], mask, causalOnly);
    if (memoize) {
      memoStep = step;
      memoPast = past;
      memoT = t;
      memo = shared;
    }
    return shared;
  }

  @Override
  public Map<String, Linear> linears() {
    return Collections.unmodifiableMap(linears);
  }

  @Override
  public void close() {
    memoStep = null;
    memo = null;
    for (Linear linear : linears.values()) {
      linear.close();
    }
    linears.clear();
    manager.close();
  }
}
