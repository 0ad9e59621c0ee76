package io.loraflow.engine.train.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.loraflow.engine.lora.BaseFormat;
import io.loraflow.engine.lora.LoraLinear;
import io.loraflow.engine.lora.LoraLinearFactory;
import io.loraflow.engine.model.AttentionStep;
import io.loraflow.engine.model.Casts;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.model.ModelConfig;
import io.loraflow.engine.model.Models;
import io.loraflow.engine.nativeops.FastOps;
import io.loraflow.engine.quant.Nf4Quantizer;
import io.loraflow.engine.quant.Nf4Tensor;
import io.loraflow.engine.train.AdamW;
import io.loraflow.engine.train.Example;
import io.loraflow.engine.train.StepMetrics;
import io.loraflow.engine.train.TrainConfig;
import io.loraflow.engine.train.Trainer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * GPU check that the fast path (native extension) computes what the plain DJL path computes, on a
 * fixed seed, within fp16 tolerance:
 *
 * <ol>
 *   <li>NF4 dequantization, kernel vs DJL ops, on odd and model-sized shapes, with and without
 *       double quantization: float32 bit-identical, float16 within 2 fp16 steps;
 *   <li>logits and every LoRA A/B gradient of one recorded forward + backward (B nonzero), with and
 *       without key padding (flash attention vs the memory-efficient kernel with a mask);
 *   <li>the fused AdamW step (one native call, 8-bit and float32 moments) vs AdamW.step after g *=
 *       coef, 6 steps with and without weight decay: parameters and 8-bit codes;
 *   <li>a 50-step QLoRA loss curve through the Trainer (gradient checkpointing, dropout, loss
 *       scaling, 8-bit AdamW), from identical models (and the plain curve must fall by 10%, so the
 *       comparison is of a run that learns).
 *   <li>with {@code --graph-shape S} (repeatable): CUDA-graph micro-steps against the same bucketed
 *       formulation run eagerly (equal to the bit: losses and final LoRA weights) and against the
 *       plain micro-step (within the loss tolerance, dropout 0), batches of 40-127 tokens so
 *       several shapes and padding occur, dropout 0 and 0.05; {@code --only-graphs} runs just
 *       these.
 * </ol>
 *
 * Each fast-path comparison runs for single fused ops ({@link Mode#OPS}) and whole decoder blocks
 * in one native call ({@link Mode#BLOCKS}); with {@code --lora-node} also for blocks whose LoRA
 * linears are one custom autograd node ({@link Mode#BLOCKS_NODE}, opt-in).
 *
 * <pre>
 * LORAFLOW_NATIVE_LIB=.../libloraflow_native.so java -cp ... \
 *     io.loraflow.engine.train.bench.FastPathCheck [--shape llama-small|falcon-small] [--steps 50]
 *     [--lora-node] [--graph-shape smollm2-135m] [--only-graphs]
 * </pre>
 *
 * Prints one JSON line per comparison and a verdict; exits 1 when any comparison is over its
 * tolerance, 2 when the fast path is not available (nothing to compare).
 */
public final class FastPathCheck {

  static final double LOGITS_TOL = 1e-2; // relative L2, fp16 compute (DESIGN.md's fp16 target)
  static final double GRAD_TOL = 3e-2; // relative L2 of each LoRA gradient
  static final double LOSS_TOL = 2e-2; // relative difference of each step's loss over 50 steps

  private FastPathCheck() {}

  /** The three ways the engine can run a step on the GPU. */
  enum Mode {
    PLAIN, // pure DJL ops (the reference)
    OPS, // fused single ops (NF4 kernel, LoRA linear, SDPA, RMSNorm, RoPE, SwiGLU)
    BLOCKS, // whole decoder blocks in one native call
    BLOCKS_NODE; // the same with each LoRA linear as one custom autograd node

    void apply() {
      FastOps.setEnabled(this != PLAIN);
      FastOps.setBlocksEnabled(this == BLOCKS || this == BLOCKS_NODE);
      FastOps.setLoraNode(this == BLOCKS_NODE);
    }
  }

  public static void main(String[] args) throws Exception {
    List<String> shapes = new ArrayList<>();
    int steps = 50;
    boolean loraNode = false; // also check the opt-in custom LoRA autograd node
    List<String> graphShapes = new ArrayList<>(); // CUDA-graph micro-steps vs eager and plain
    boolean onlyGraphs = false; // skip the dequant/optimizer/gradient/loss-curve checks
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--shape" -> shapes.add(args[++i]);
        case "--steps" -> steps = Integer.parseInt(args[++i]);
        case "--lora-node" -> loraNode = true;
        case "--graph-shape" -> graphShapes.add(args[++i]);
        case "--only-graphs" -> onlyGraphs = true;
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (shapes.isEmpty() && !onlyGraphs) {
      shapes = List.of("llama-small", "falcon-small");
    }
    Device dev = Device.gpu();
    System.out.println("{\"event\":\"path\",\"line\":\"" + FastOps.describe(dev) + "\"}");
    try (NDManager probe = NDManager.newBaseManager(dev)) {
      if (!FastOps.activeFor(probe.zeros(new Shape(1)))) {
        System.out.println("{\"event\":\"verdict\",\"pass\":false,\"reason\":\"no fast path\"}");
        System.exit(2);
      }
    }
    List<String> failures = new ArrayList<>();
    if (onlyGraphs) {
      shapes = List.of();
    } else {
      dequantChecks(dev, failures);
      optimizerChecks(dev, failures);
    }
    for (String shape : shapes) {
      gradientCheck(shape, dev, false, loraNode, failures);
      gradientCheck(shape, dev, true, loraNode, failures);
      lossCurveCheck(shape, dev, steps, loraNode, failures);
    }
    for (String shape : graphShapes) {
      for (double dropout : new double[] {0, 0.05}) {
        graphCheck(shape, dev, steps, dropout, loraNode, failures);
      }
      graphFallbackCheck(shape, dev, steps, failures);
    }
    System.out.printf(
        Locale.ROOT,
        "{\"event\":\"verdict\",\"pass\":%b,\"failures\":\"%s\"}%n",
        failures.isEmpty(),
        String.join("; ", failures));
    System.exit(failures.isEmpty() ? 0 : 1);
  }

  private static void dequantChecks(Device dev, List<String> failures) {
    long[][] shapes = {{37, 100}, {4672, 4544}, {1, 64}, {3, 7}};
    for (boolean dq : new boolean[] {true, false}) {
      for (long[] s : shapes) {
        try (NDManager m = NDManager.newBaseManager(dev)) {
          JniUtils.setSeed(7);
          NDArray w = m.randomNormal(0f, 0.02f, new Shape(s), DataType.FLOAT32);
          Nf4Tensor q = new Nf4Quantizer(dq).quantize(w, m);
          for (DataType dtype : new DataType[] {DataType.FLOAT32, DataType.FLOAT16}) {
            FastOps.setEnabled(false);
            NDArray plain = q.dequantize(dtype, m).toType(DataType.FLOAT32, false);
            FastOps.setEnabled(true);
            NDArray fast = q.dequantize(dtype, m).toType(DataType.FLOAT32, false);
            float maxDiff = fast.sub(plain).abs().max().getFloat();
            float maxAbs = plain.abs().max().getFloat();
            // fp32: the same float32 products; fp16: rounded once vs twice, <= 2 fp16 steps
            double tol = dtype == DataType.FLOAT32 ? 0 : 2 * Math.ulp((float) maxAbs) * 8192;
            boolean ok = maxDiff <= tol && Float.isFinite(maxDiff);
            String name =
                String.format(Locale.ROOT, "dequant %dx%d dq=%b %s", s[0], s[1], dq, dtype.name());
            System.out.printf(
                Locale.ROOT,
                "{\"event\":\"dequant\",\"case\":\"%s\",\"max_abs_diff\":%.3e,\"max_abs\":%.3e,"
                    + "\"tol\":%.3e,\"ok\":%b}%n",
                name,
                maxDiff,
                maxAbs,
                tol,
                ok);
            if (!ok) {
              failures.add(name);
            }
          }
          q.close();
        }
      }
    }
  }

  /**
   * Fused AdamW (AdamW.stepFused) against the plain step on the same parameters and gradients:
   * sizes under and over the 8-bit minimum, whole and padded blocks, one parameter without a
   * gradient, a clip coefficient != 1. Expected equal up to float32 rounding order (the kernel uses
   * the plain path's op order without FMA).
   */
  private static void optimizerChecks(Device dev, List<String> failures) {
    long[][] shapes = {{16, 576}, {192, 16}, {16, 1536}, {37, 101}, {3, 7}, {1536, 16}, {64, 64}};
    for (double wd : new double[] {0.0, 0.01}) {
      TrainConfig.Builder b = TrainConfig.defaults().toBuilder();
      b.weightDecay = wd;
      TrainConfig config = b.build();
      try (NDManager m = NDManager.newBaseManager(dev)) {
        List<NDArray> plainP = new ArrayList<>();
        List<NDArray> fusedP = new ArrayList<>();
        List<String> names = new ArrayList<>();
        JniUtils.setSeed(11);
        for (int i = 0; i < shapes.length; i++) {
          NDArray p = m.randomNormal(0f, 0.05f, new Shape(shapes[i]), DataType.FLOAT32);
          plainP.add(p);
          NDArray q = p.duplicate();
          q.setRequiresGradient(true);
          fusedP.add(q);
          p.setRequiresGradient(true);
          names.add("p" + i);
        }
        AdamW plain = new AdamW(m, names, plainP, config, true);
        AdamW fused = new AdamW(m, names, fusedP, config, true);
        double worstParam = 0;
        double worstCodes = 0;
        for (int step = 1; step <= 6; step++) {
          JniUtils.setSeed(100 + step);
          List<NDArray> g = new ArrayList<>();
          for (int i = 0; i < shapes.length; i++) {
            g.add(m.randomNormal(0f, 1e-3f * step, new Shape(shapes[i]), DataType.FLOAT32));
          }
          NDArray coef = m.create(0.75f);
          boolean grad = JniUtils.isGradMode();
          JniUtils.setGradMode(true);
          for (int i = 0; i < shapes.length; i++) {
            if (i == 4) {
              continue; // no gradient reaches this one: g = 0 on both paths
            }
            JniUtils.backward(
                (ai.djl.pytorch.engine.PtNDArray) fusedP.get(i).mul(g.get(i)).sum(),
                (ai.djl.pytorch.engine.PtNDArray) m.create(1f),
                false,
                false);
          }
          JniUtils.setGradMode(false);
          List<NDArray> scaled = new ArrayList<>();
          for (int i = 0; i < shapes.length; i++) {
            scaled.add(i == 4 ? m.zeros(new Shape(shapes[i])) : g.get(i).mul(coef));
          }
          plain.step(plainP, scaled, 1e-3, step);
          fused.stepFused(fusedP, coef, 1e-3, step);
          JniUtils.setGradMode(grad);
          for (int i = 0; i < shapes.length; i++) {
            worstParam =
                Math.max(
                    worstParam,
                    relErr(
                        fusedP.get(i).stopGradient().toFloatArray(),
                        plainP.get(i).stopGradient().toFloatArray()));
          }
          for (Map.Entry<String, NDArray> e : plain.state().entrySet()) {
            NDArray other = fused.state().get(e.getKey());
            if (e.getValue().getDataType() == DataType.UINT8) {
              long differ =
                  e.getValue()
                      .toType(DataType.INT32, false)
                      .neq(other.toType(DataType.INT32, false))
                      .sum()
                      .toType(DataType.INT64, false)
                      .getLong();
              worstCodes = Math.max(worstCodes, (double) differ / e.getValue().size());
            } else {
              worstParam =
                  Math.max(worstParam, relErr(other.toFloatArray(), e.getValue().toFloatArray()));
            }
          }
        }
        plain.close();
        fused.close();
        report(
            String.format(Locale.ROOT, "adamw fused params+moments wd=%.2f", wd),
            worstParam,
            1e-5,
            failures);
        report(
            String.format(Locale.ROOT, "adamw fused 8-bit codes differing wd=%.2f", wd),
            worstCodes,
            1e-3,
            failures);
      }
    }
  }

  /** A fixed model: identical weights for every call with the same shape (seeded device RNG). */
  private static CausalLM build(
      String shape, Device dev, NDManager owner, TrainConfig train, List<String> linearsOut) {
    ModelConfig config = QloraBench.shape(shape, 0);
    JniUtils.setSeed(1234);
    LoraLinearFactory factory =
        new LoraLinearFactory(
            train.lora(train.resolvedTargets(config.family())),
            BaseFormat.NF4,
            DataType.FLOAT16,
            owner,
            train.seed());
    CausalLM model = Models.build(new RandomWeightSource(config), factory, DataType.FLOAT16, dev);
    factory.requireAllTargetsMatched();
    linearsOut.addAll(model.linears().keySet());
    return model;
  }

  private static TrainConfig config(int batch, int seq) {
    TrainConfig.Builder b = TrainConfig.defaults().toBuilder();
    b.checkpointEvery = 0;
    b.loraDropout = 0.05;
    b.batchSize = batch;
    b.maxSeqLen = seq;
    b.warmupRatio = 0;
    b.targetModules = List.of(io.loraflow.engine.lora.LoraConfig.ALL_LINEAR);
    return b.build();
  }

  /** Logits and LoRA gradients of one recorded pass, plain vs fast, on the same model. */
  private static void gradientCheck(
      String shape, Device dev, boolean padded, boolean loraNode, List<String> failures)
      throws Exception {
    int batch = 2;
    int seq = 128;
    TrainConfig train = config(batch, seq);
    try (NDManager owner = NDManager.newBaseManager(dev)) {
      List<String> linears = new ArrayList<>();
      try (CausalLM model = build(shape, dev, owner, train, linears)) {
        Map<String, LoraLinear> lora = loraOf(model);
        // B = 0 at init would make every A gradient zero: give B small random values
        JniUtils.setGradMode(false);
        JniUtils.setSeed(99);
        for (LoraLinear l : lora.values()) {
          l.setTraining(false); // no dropout: the same function on both paths
          try (NDArray r = owner.randomNormal(0f, 0.05f, l.loraB().getShape(), DataType.FLOAT32)) {
            l.loraB().addi(r);
          }
        }
        Result plain = pass(model, lora, dev, batch, seq, padded, Mode.PLAIN);
        for (Mode mode : modes(loraNode)) {
          Result fast = pass(model, lora, dev, batch, seq, padded, mode);
          String tag = shape + (padded ? " padded" : "") + " " + mode.name().toLowerCase();
          double logitsErr = relErr(fast.logits, plain.logits);
          report("logits " + tag, logitsErr, LOGITS_TOL, failures);
          double worst = 0;
          String worstName = "";
          for (int i = 0; i < plain.grads.size(); i++) {
            double e = relErr(fast.grads.get(i), plain.grads.get(i));
            if (!(e <= worst)) {
              worst = e;
              worstName = plain.names.get(i);
            }
          }
          report("lora grads " + tag + " (worst " + worstName + ")", worst, GRAD_TOL, failures);
        }
      }
    }
  }

  private record Result(float[] logits, List<float[]> grads, List<String> names) {}

  private static Result pass(
      CausalLM model,
      Map<String, LoraLinear> lora,
      Device dev,
      int batch,
      int seq,
      boolean padded,
      Mode mode) {
    mode.apply();
    int vocab = model.config().vocabSize();
    try (NDManager m = NDManager.newBaseManager(dev)) {
      long[] ids = new long[batch * seq];
      long[] pos = new long[batch * seq];
      long[] keep = new long[batch * seq];
      for (int b = 0; b < batch; b++) {
        int len = padded && b == 1 ? seq - 37 : seq;
        for (int t = 0; t < seq; t++) {
          ids[b * seq + t] = t < len ? 3 + ((long) t * 7919 + b * 104729L) % (vocab - 3) : 0;
          pos[b * seq + t] = t;
          keep[b * seq + t] = t < len ? 1 : 0;
        }
      }
      AttentionStep step =
          new AttentionStep(
              m.create(pos, new Shape(batch, seq)),
              padded ? m.create(keep, new Shape(batch, seq)) : null,
              null);
      JniUtils.setSeed(5);
      NDArray weights = m.randomNormal(0f, 1f, new Shape(batch, seq, vocab), DataType.FLOAT32);
      if (padded) {
        weights =
            weights.mul(m.create(keep, new Shape(batch, seq, 1)).toType(DataType.FLOAT32, false));
      }
      for (LoraLinear l : lora.values()) {
        JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) l.loraA());
        JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) l.loraB());
      }
      JniUtils.setGradMode(true);
      NDArray h = model.embed(m.create(ids, new Shape(batch, seq)));
      for (int l = 0; l < model.config().numLayers(); l++) {
        h = model.block(l, h, step);
      }
      NDArray logits = model.head(h); // (B, T, V) fp16
      NDArray loss = Casts.to(logits, DataType.FLOAT32).mul(weights).sum();
      JniUtils.backward(
          (ai.djl.pytorch.engine.PtNDArray) loss,
          (ai.djl.pytorch.engine.PtNDArray) m.ones(new Shape(), DataType.FLOAT32),
          false,
          false);
      JniUtils.setGradMode(false);
      float[] logitValues = logits.toType(DataType.FLOAT32, false).toFloatArray();
      if (padded) { // pad positions are not compared (their values are unconstrained)
        for (int i = 0; i < keep.length; i++) {
          if (keep[i] == 0) {
            java.util.Arrays.fill(logitValues, i * vocab, (i + 1) * vocab, 0f);
          }
        }
      }
      List<float[]> grads = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (Map.Entry<String, LoraLinear> e : lora.entrySet()) {
        for (String part : new String[] {"A", "B"}) {
          NDArray p = part.equals("A") ? e.getValue().loraA() : e.getValue().loraB();
          NDArray g = JniUtils.getGradient((ai.djl.pytorch.engine.PtNDArray) p);
          grads.add(g.toFloatArray());
          names.add(e.getKey() + "." + part);
          g.close();
        }
      }
      Mode.BLOCKS.apply();
      return new Result(logitValues, grads, names);
    }
  }

  /** 50 optimizer steps from identical models, plain then fast; every step's loss compared. */
  private static void lossCurveCheck(
      String shape, Device dev, int steps, boolean loraNode, List<String> failures)
      throws Exception {
    int batch = 2;
    int seq = 128;
    TrainConfig train = config(batch, seq);
    List<double[]> curves = new ArrayList<>();
    List<Mode> runs = new ArrayList<>(List.of(Mode.PLAIN));
    runs.addAll(List.of(modes(loraNode)));
    for (Mode mode : runs) {
      mode.apply();
      try (NDManager owner = NDManager.newBaseManager(dev)) {
        List<String> linears = new ArrayList<>();
        try (CausalLM model = build(shape, dev, owner, train, linears)) {
          int vocab = model.config().vocabSize();
          List<Example> data = new ArrayList<>();
          for (int row = 0; row < batch * steps; row++) {
            long[] ids = new long[seq];
            for (int j = 0; j < seq; j++) {
              ids[j] = 3 + ((long) j * 31 + (long) (row % 5) * 104729) % 97; // learnable
            }
            data.add(new Example(ids, ids.clone()));
          }
          double[] losses = new double[steps];
          try (Trainer trainer =
              new Trainer(
                  model,
                  loraOf(model),
                  linears,
                  train,
                  data,
                  Files.createTempDirectory("fastpath-check"),
                  "random-" + shape)) {
            trainer.addProgressListener(
                (StepMetrics m) -> {
                  if (m.step() >= 1 && m.step() <= losses.length) {
                    losses[(int) m.step() - 1] = m.loss();
                  }
                });
            trainer.run();
          }
          curves.add(losses);
        }
      }
    }
    Mode.BLOCKS.apply();
    System.out.printf(
        Locale.ROOT,
        "{\"event\":\"loss_curve\",\"shape\":\"%s\",\"modes\":\"%s\",\"curves\":%s}%n",
        shape,
        runs,
        curves.stream().map(java.util.Arrays::toString).toList());
    boolean falls = curves.get(0)[steps - 1] < 0.9 * curves.get(0)[0]; // the run learns at all
    report("plain loss falls by 10% over " + steps + " steps " + shape, falls ? 0 : 1, 0, failures);
    for (int m = 1; m < curves.size(); m++) {
      double worst = 0;
      int worstStep = 0;
      for (int i = 0; i < steps; i++) {
        double d = Math.abs(curves.get(m)[i] - curves.get(0)[i]) / Math.abs(curves.get(0)[i]);
        if (!(d <= worst)) {
          worst = d;
          worstStep = i + 1;
        }
      }
      report(
          "loss curve "
              + shape
              + " "
              + runs.get(m).name().toLowerCase()
              + " "
              + steps
              + " steps (worst step "
              + worstStep
              + ")",
          worst,
          LOSS_TOL,
          failures);
    }
  }

  /** One run of {@link #graphCheck}: per-step losses and tokens/s, final LoRA weights. */
  private record GraphRun(
      double[] losses, double[] tokensPerSecond, float[] weights, long replays) {}

  /**
   * CUDA-graph micro-steps (Trainer's default on the fast path without checkpointing) against the
   * same bucketed formulation run eagerly (the graphs must replay it exactly: same losses and
   * weights) and against the plain micro-step (within the loss tolerance), on batches of varying
   * length (several shapes, right padding). Also prints each run's median tokens/s.
   */
  private static void graphCheck(
      String shape, Device dev, int steps, double dropout, boolean loraNode, List<String> failures)
      throws Exception {
    int batch = 2;
    int seq = 128;
    TrainConfig.Builder b = config(batch, seq).toBuilder();
    b.gradientCheckpointing = false;
    b.loraDropout = dropout;
    TrainConfig train = b.build();
    String[] names = {"graphs", "bucketed-eager", "plain"};
    List<GraphRun> runs = new ArrayList<>();
    Mode mode = loraNode ? Mode.BLOCKS_NODE : Mode.BLOCKS;
    mode.apply();
    for (String name : names) {
      if (name.equals("plain")) {
        System.setProperty(FastOps.GRAPHS_PROPERTY, "off");
      }
      try (NDManager owner = NDManager.newBaseManager(dev)) {
        List<String> linears = new ArrayList<>();
        try (CausalLM model = build(shape, dev, owner, train, linears)) {
          List<Example> data = varyingLengths(batch * steps, seq);
          double[] losses = new double[steps];
          double[] tps = new double[steps];
          Map<String, LoraLinear> lora = loraOf(model);
          long replays;
          try (Trainer trainer =
              new Trainer(
                  model,
                  lora,
                  linears,
                  train,
                  data,
                  Files.createTempDirectory("graph-check"),
                  "random-" + shape)) {
            if (name.equals("bucketed-eager")) {
              trainer.useBucketedSteps();
            }
            trainer.addProgressListener(
                (StepMetrics m) -> {
                  if (m.step() >= 1 && m.step() <= losses.length) {
                    losses[(int) m.step() - 1] = m.loss();
                    tps[(int) m.step() - 1] = m.tokensPerSecond();
                  }
                });
            trainer.run();
            replays = trainer.graphReplays();
          }
          List<Float> w = new ArrayList<>();
          for (LoraLinear l : lora.values()) {
            for (float v : l.loraA().toFloatArray()) {
              w.add(v);
            }
            for (float v : l.loraB().toFloatArray()) {
              w.add(v);
            }
          }
          float[] weights = new float[w.size()];
          for (int i = 0; i < weights.length; i++) {
            weights[i] = w.get(i);
          }
          runs.add(new GraphRun(losses, tps, weights, replays));
        }
      } finally {
        System.clearProperty(FastOps.GRAPHS_PROPERTY);
      }
    }
    Mode.BLOCKS.apply();
    String tag = shape + " " + mode.name().toLowerCase() + " dropout " + dropout;
    for (int r = 0; r < runs.size(); r++) {
      double[] tps = java.util.Arrays.copyOfRange(runs.get(r).tokensPerSecond(), 3, steps);
      java.util.Arrays.sort(tps);
      System.out.printf(
          Locale.ROOT,
          "{\"event\":\"graph_run\",\"shape\":\"%s\",\"dropout\":%s,\"run\":\"%s\","
              + "\"replays\":%d,\"median_tokens_per_s\":%.1f,\"losses\":%s}%n",
          shape,
          dropout,
          names[r],
          runs.get(r).replays(),
          tps.length == 0 ? 0 : tps[tps.length / 2],
          java.util.Arrays.toString(runs.get(r).losses()));
    }
    GraphRun graphs = runs.get(0);
    GraphRun eager = runs.get(1);
    GraphRun plain = runs.get(2);
    report("graph replays happened " + tag, graphs.replays() > steps / 2 ? 0 : 1, 0, failures);
    double lossDiff = 0;
    double planDiff = 0;
    for (int i = 0; i < steps; i++) {
      lossDiff = Math.max(lossDiff, Math.abs(graphs.losses()[i] - eager.losses()[i]));
      planDiff =
          Math.max(
              planDiff,
              Math.abs(graphs.losses()[i] - plain.losses()[i]) / Math.abs(plain.losses()[i]));
    }
    double weightDiff = 0;
    for (int i = 0; i < graphs.weights().length; i++) {
      weightDiff = Math.max(weightDiff, Math.abs(graphs.weights()[i] - eager.weights()[i]));
    }
    // replay = the same kernels on the same inputs as the eager bucketed step: equal to the bit
    report("graphs vs bucketed-eager losses, max abs " + tag, lossDiff, 0, failures);
    report("graphs vs bucketed-eager weights, max abs " + tag, weightDiff, 0, failures);
    if (dropout == 0) { // with dropout the plain step draws its masks per layer: other masks
      report("graphs vs plain losses, max rel " + tag, planDiff, LOSS_TOL, failures);
    }
  }

  /**
   * {@code rows} learnable examples of 40..seq-1 tokens (several graph shapes, right padding in a
   * batch): the first third of each is prompt (not supervised), the rest answer.
   */
  private static List<Example> varyingLengths(int rows, int seq) {
    List<Example> data = new ArrayList<>();
    for (int row = 0; row < rows; row++) {
      int len = 40 + (row * 37) % (seq - 40);
      long[] ids = new long[len];
      long[] labels = new long[len];
      for (int j = 0; j < len; j++) {
        ids[j] = 3 + ((long) j * 31 + (long) (row % 5) * 104729) % 97;
        labels[j] = j < len / 3 ? Example.IGNORE : ids[j];
      }
      data.add(new Example(ids, labels));
    }
    return data;
  }

  /**
   * A model whose head reads its input back to the host: legal in an eager step, illegal while a
   * CUDA graph is being captured (a device-to-host copy synchronizes the capturing stream).
   */
  private static final class HostReadingHead implements CausalLM {
    private final CausalLM inner;

    HostReadingHead(CausalLM inner) {
      this.inner = inner;
    }

    @Override
    public io.loraflow.engine.model.ModelConfig config() {
      return inner.config();
    }

    @Override
    public DataType computeType() {
      return inner.computeType();
    }

    @Override
    public NDArray embed(NDArray ids) {
      return inner.embed(ids);
    }

    @Override
    public NDArray block(int layer, NDArray hidden, io.loraflow.engine.model.AttentionStep step) {
      return inner.block(layer, hidden, step);
    }

    @Override
    public NDArray head(NDArray hidden) {
      hidden.get(0).toType(DataType.FLOAT32, false).toFloatArray(); // the host read
      return inner.head(hidden);
    }

    @Override
    public void prepareStep(io.loraflow.engine.model.AttentionStep step, int batch, long t) {
      inner.prepareStep(step, batch, t);
    }

    @Override
    public Map<String, io.loraflow.engine.model.Linear> linears() {
      return inner.linears();
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  /**
   * A capture that fails (here: a host read inside the step) is abandoned and the run goes on with
   * the same bucketed step eagerly: no replay, every step done, losses equal to the bit to a run
   * that never tried a graph, and the process's CUDA state usable afterwards.
   */
  private static void graphFallbackCheck(String shape, Device dev, int steps, List<String> failures)
      throws Exception {
    int batch = 2;
    int seq = 128;
    TrainConfig.Builder b = config(batch, seq).toBuilder();
    b.gradientCheckpointing = false;
    b.loraDropout = 0;
    TrainConfig train = b.build();
    Mode.BLOCKS.apply();
    List<double[]> curves = new ArrayList<>();
    long replays = -1;
    for (boolean eager : new boolean[] {false, true}) {
      try (NDManager owner = NDManager.newBaseManager(dev)) {
        List<String> linears = new ArrayList<>();
        try (CausalLM model = new HostReadingHead(build(shape, dev, owner, train, linears))) {
          List<Example> data = varyingLengths(batch * steps, seq);
          double[] losses = new double[steps];
          try (Trainer trainer =
              new Trainer(
                  model,
                  loraOf(model),
                  linears,
                  train,
                  data,
                  Files.createTempDirectory("graph-fallback"),
                  "random-" + shape)) {
            if (eager) {
              trainer.useBucketedSteps();
            }
            trainer.addProgressListener(
                (StepMetrics m) -> {
                  if (m.step() >= 1 && m.step() <= losses.length) {
                    losses[(int) m.step() - 1] = m.loss();
                  }
                });
            trainer.run();
            if (!eager) {
              replays = trainer.graphReplays();
            }
          }
          curves.add(losses);
        }
      }
    }
    double diff = 0;
    boolean finite = true;
    for (int i = 0; i < steps; i++) {
      diff = Math.max(diff, Math.abs(curves.get(0)[i] - curves.get(1)[i]));
      finite &= Double.isFinite(curves.get(0)[i]) && curves.get(0)[i] > 0;
    }
    System.out.printf(
        Locale.ROOT,
        "{\"event\":\"graph_fallback\",\"shape\":\"%s\",\"replays\":%d,\"losses\":%s}%n",
        shape,
        replays,
        java.util.Arrays.toString(curves.get(0)));
    report("failed capture: no replay " + shape, replays == 0 ? 0 : 1, 0, failures);
    report("failed capture: every step trained " + shape, finite ? 0 : 1, 0, failures);
    report("failed capture: losses vs bucketed-eager, max abs " + shape, diff, 0, failures);
  }

  /** The fast-path modes compared with the plain path; the LoRA node only on request. */
  private static Mode[] modes(boolean loraNode) {
    return loraNode
        ? new Mode[] {Mode.OPS, Mode.BLOCKS, Mode.BLOCKS_NODE}
        : new Mode[] {Mode.OPS, Mode.BLOCKS};
  }

  @SuppressWarnings("unchecked")
  private static Map<String, LoraLinear> loraOf(CausalLM model) {
    Map<String, LoraLinear> out = new java.util.LinkedHashMap<>();
    model
        .linears()
        .forEach(
            (k, v) -> {
              if (v instanceof LoraLinear l) {
                out.put(k, l);
              }
            });
    return out;
  }

  private static void report(String what, double err, double tol, List<String> failures) {
    boolean ok = err <= tol; // NaN fails
    System.out.printf(
        Locale.ROOT,
        "{\"event\":\"compare\",\"what\":\"%s\",\"rel_err\":%.3e,\"tol\":%.1e,\"ok\":%b}%n",
        what,
        err,
        tol,
        ok);
    if (!ok) {
      failures.add(what);
    }
  }

  static double relErr(float[] a, float[] ref) {
    if (a.length != ref.length) {
      return Double.NaN;
    }
    double num = 0;
    double den = 0;
    for (int i = 0; i < a.length; i++) {
      double d = (double) a[i] - ref[i];
      num += d * d;
      den += (double) ref[i] * ref[i];
    }
    return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
  }
}
