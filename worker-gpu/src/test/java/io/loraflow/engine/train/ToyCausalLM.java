package io.loraflow.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.model.AttentionStep;
import io.loraflow.engine.model.Casts;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.model.Linear;
import io.loraflow.engine.model.LinearFactory;
import io.loraflow.engine.model.ModelConfig;
import io.loraflow.engine.model.Scalars;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A tiny Llama-shaped model for trainer tests (the real Llama lives in the model package): token
 * embedding, blocks of single-head causal attention (q/k/v/o_proj) and a SiLU MLP (up/down_proj)
 * with RMS norms in float32, final norm and an lm_head. Every projection goes through the
 * LinearFactory under its HF name, so LoRA and NF4 wrap them as in a real model.
 */
final class ToyCausalLM implements CausalLM {

  private final ModelConfig config;
  private final DataType compute;
  private final NDManager manager;
  private final NDArray embedding; // (V, H)
  private final Map<String, Linear> linears = new LinkedHashMap<>();

  ToyCausalLM(
      int vocab,
      int hidden,
      int layers,
      DataType compute,
      LinearFactory factory,
      NDManager manager,
      long seed) {
    this.config =
        new ModelConfig(
            ModelConfig.Family.LLAMA,
            vocab,
            hidden,
            2 * hidden,
            layers,
            1,
            1,
            hidden,
            64,
            1e-5,
            10000,
            null,
            false,
            false,
            false,
            false,
            null,
            0,
            "silu",
            -1,
            List.of(vocab - 1));
    this.compute = compute;
    this.manager = manager;
    Random rng = new Random(seed);
    this.embedding =
        manager
            .create(gaussian(rng, vocab * hidden, 1.0f), new Shape(vocab, hidden))
            .toType(compute, false);
    for (int l = 0; l < layers; l++) {
      String p = "model.layers." + l + ".";
      add(factory, rng, p + "self_attn.q_proj", hidden, hidden);
      add(factory, rng, p + "self_attn.k_proj", hidden, hidden);
      add(factory, rng, p + "self_attn.v_proj", hidden, hidden);
      add(factory, rng, p + "self_attn.o_proj", hidden, hidden);
      add(factory, rng, p + "mlp.up_proj", 2 * hidden, hidden);
      add(factory, rng, p + "mlp.down_proj", hidden, 2 * hidden);
    }
    add(factory, rng, "lm_head", vocab, hidden);
  }

  private void add(LinearFactory factory, Random rng, String name, int out, int in) {
    NDArray w =
        manager.create(gaussian(rng, out * in, (float) (1 / Math.sqrt(in))), new Shape(out, in));
    linears.put(name, factory.create(name, w, null));
  }

  private static float[] gaussian(Random rng, int n, float std) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rng.nextGaussian() * std);
    }
    return v;
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public DataType computeType() {
    return compute;
  }

  @Override
  public NDArray embed(NDArray ids) {
    NDManager target = ids.getManager();
    try (NDManager scope = target.newSubManager()) {
      embedding.tempAttach(scope);
      NDArray out = embedding.get(ids);
      out.attach(target);
      return out;
    }
  }

  /** RMS norm in float32, back to the compute dtype. */
  private NDArray norm(NDArray x) {
    NDArray x32 = Casts.to(x, DataType.FLOAT32);
    NDArray rms = Scalars.add(x32.square().mean(new int[] {-1}, true), 1e-5f).sqrt();
    return Casts.to(x32.div(rms), compute);
  }

  @Override
  public NDArray block(int layer, NDArray hidden, AttentionStep step) {
    String p = "model.layers." + layer + ".";
    long t = hidden.getShape().get(1);
    NDArray x = norm(hidden);
    NDArray q = linears.get(p + "self_attn.q_proj").forward(x);
    NDArray k = linears.get(p + "self_attn.k_proj").forward(x);
    NDArray v = linears.get(p + "self_attn.v_proj").forward(x);
    // device scalars throughout (Scalars): a Java-number operand is a GC hazard under autograd
    NDArray scores32 = Casts.to(q.matMul(k.transpose(0, 2, 1)), DataType.FLOAT32);
    NDArray scores =
        scores32.div(Scalars.like(scores32, (float) Math.sqrt(config.hiddenSize()))); // (B,T,T)
    float[] mask = new float[(int) (t * t)];
    for (int i = 0; i < t; i++) {
      for (int j = i + 1; j < t; j++) {
        mask[(int) (i * t + j)] = -1e9f;
      }
    }
    scores = scores.add(hidden.getManager().create(mask, new Shape(1, t, t)));
    if (step.keyPadding() != null) {
      NDArray pad =
          Scalars.mul(Scalars.add(step.keyPadding().toType(DataType.FLOAT32, false), -1), 1e9f);
      scores = scores.add(pad.expandDims(1)); // (B, 1, S): -1e9 on padded keys
    }
    NDArray attn = Casts.to(scores.softmax(-1), compute).matMul(v);
    NDArray h = hidden.add(linears.get(p + "self_attn.o_proj").forward(attn));
    NDArray up = linears.get(p + "mlp.up_proj").forward(norm(h));
    NDArray act = up.mul(Casts.to(sigmoid(Casts.to(up, DataType.FLOAT32)), compute)); // silu
    return h.add(linears.get(p + "mlp.down_proj").forward(act));
  }

  /** 1 / (1 + exp(-x)), float32. */
  private static NDArray sigmoid(NDArray x) {
    NDArray denominator = Scalars.add(x.neg().exp(), 1);
    return denominator.pow(Scalars.like(denominator, -1));
  }

  @Override
  public NDArray head(NDArray hidden) {
    return linears.get("lm_head").forward(norm(hidden));
  }

  @Override
  public Map<String, Linear> linears() {
    return linears;
  }

  @Override
  public void close() {
    linears.values().forEach(Linear::close);
    embedding.close();
  }
}
