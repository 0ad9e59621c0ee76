package io.loraflow.engine.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.lora.LoraLinear;
import io.loraflow.engine.lora.PeftAdapter;
import io.loraflow.engine.model.AttentionStep;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.nativeops.FastOps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The QLoRA training loop. One optimizer step = gradAccumulation micro-batches, each:
 *
 * <ol>
 *   <li>forward: embed, then every block with autograd off, keeping only the block inputs (gradient
 *       checkpointing) - or the whole forward recorded when checkpointing is off;
 *   <li>loss: final norm + LM head on the answer positions only, float32 log-softmax and mean
 *       cross-entropy, times the loss scale / gradAccumulation, backward to the last hidden state;
 *   <li>backward through the blocks, last to first: re-run the block recorded from its saved input
 *       (same dropout seed), backward(out, gradOut), hand the input's gradient down.
 * </ol>
 *
 * Then the float32 LoRA gradients are unscaled, checked for inf/NaN (skip the step and halve the
 * scale), clipped to maxGradNorm and applied by AdamW (8-bit or float32) with the scheduled lr.
 *
 * <p>Determinism: the data order is a function of (seed, epoch); the dropout masks of block l in
 * micro-batch i come from torch's generator seeded with f(seed, i, l) right before the block runs
 * (so the recomputation sees the same masks). The whole state is the LoRA weights, the optimizer
 * moments, the step, the loss scale and its counter: a {@link Checkpoint} holds exactly that and a
 * resumed run continues bit for bit. On CPU that needs MKL's strict reproducibility mode ({@code
 * MKL_CBWR=AUTO,STRICT} in the environment: otherwise MKL picks kernels by buffer alignment and
 * sums differ in the last bit between processes); on GPUs cuBLAS/cuDNN are not bit-reproducible
 * across runs in general, so there a resume is exact in state, not in bits.
 *
 * <p>Held-out evaluation ({@link EvalPolicy}, with {@link #setHeldOut}): after the due steps the
 * loss over the eval split is measured (dropout off, no gradients, float32 loss, one manager per
 * batch), reported to the {@link EvalListener}s, and fed to {@link EarlyStopping}; an improvement
 * makes the current weights the {@link BestCheckpoint}, which every checkpoint carries, and when
 * patience is used up the run checkpoints and ends early. {@link #savePublishedAdapter} writes the
 * best adapter when there is one, else the last weights.
 *
 * <p>Stopping: {@link #requestStop()} (e.g. from a SIGTERM hook) makes the loop write a checkpoint
 * and return at the next step boundary; a thread interrupt makes it throw InterruptedException at
 * the next micro-batch boundary without writing anything.
 */
public final class Trainer implements AutoCloseable {

  private final CausalLM model;
  private final Map<String, LoraLinear> lora;
  private final List<String> allLinear;
  private final TrainConfig config;
  private final BatchPlan plan;
  private final long totalSteps;
  private final LrSchedule schedule;
  private final LossScaler scaler;
  private final NDManager manager;
  private final Optimizer optimizer;
  private GraphedSteps graphs; // null: the plain micro-step (CPU, checkpointing, no fast path)
  private final List<NDArray> params = new ArrayList<>();
  private final List<String> paramNames = new ArrayList<>();
  private final Path checkpointRoot;
  private final String baseModel;
  private final List<TrainProgress> progress = new CopyOnWriteArrayList<>();
  private final List<CheckpointListener> checkpointListeners = new CopyOnWriteArrayList<>();
  private StepHistory history =
      new StepHistory(); // bounded: counters + recent window + thinned curve
  private final List<EvalListener> evalListeners = new CopyOnWriteArrayList<>();
  private final List<EvalMetrics> evalHistory = new ArrayList<>();
  private final BestCheckpoint best;
  private EarlyStopping earlyStopping;
  private HeldOutLoss heldOut;
  private boolean stoppedEarly;
  private volatile boolean stopRequested;
  private long step;
  private Path lastCheckpoint;

  /**
   * @param model the model, built with a {@link io.loraflow.engine.lora.LoraLinearFactory}
   * @param lora the factory's LoRA modules
   * @param allLinear every linear module path of the model (for adapter_config target_modules)
   * @param config the run (already validated against the model)
   * @param data training examples (already truncated to maxSeqLen)
   * @param checkpointRoot checkpoints go to checkpointRoot/step-N
   * @param baseModel base_model_name_or_path written into the adapter config
   */
  public Trainer(
      CausalLM model,
      Map<String, LoraLinear> lora,
      List<String> allLinear,
      TrainConfig config,
      List<Example> data,
      Path checkpointRoot,
      String baseModel) {
    if (lora.isEmpty()) {
      throw new IllegalArgumentException("the model has no LoRA module to train");
    }
    if (model.computeType()
        != (config.precision() == TrainConfig.Precision.FP16
            ? DataType.FLOAT16
            : DataType.FLOAT32)) {
      throw new IllegalArgumentException(
          "model computes in "
              + model.computeType()
              + " but the config asks for "
              + config.precision());
    }
    this.model = model;
    this.lora = lora;
    this.allLinear = List.copyOf(allLinear);
    this.config = config;
    this.plan =
        new BatchPlan(TokenizedDataset.of(data, 0, 0, "the training set").examples(), config);
    this.totalSteps =
        (plan.totalBatches() + config.gradAccumulation() - 1) / config.gradAccumulation();
    this.schedule = LrSchedule.of(config, totalSteps);
    this.scaler =
        new LossScaler(
            config.precision() == TrainConfig.Precision.FP16,
            config.initialLossScale(),
            config.lossScaleGrowthInterval());
    this.checkpointRoot = checkpointRoot;
    this.baseModel = baseModel;
    this.best = new BestCheckpoint(checkpointRoot.resolve(BestCheckpoint.DIR));
    this.earlyStopping = new EarlyStopping(config.evalPolicy(), null);
    try {
      best.clear(); // a fresh run has no best adapter yet (resume restores the checkpoint's)
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot clear " + checkpointRoot, e);
    }
    Device device = lora.values().iterator().next().loraA().getDevice();
    this.manager = NDManager.newBaseManager(device);
    for (LoraLinear m : lora.values()) {
      params.add(m.loraA());
      paramNames.add(m.name() + ".lora_A.weight");
      params.add(m.loraB());
      paramNames.add(m.name() + ".lora_B.weight");
    }
    this.optimizer =
        new AdamW(
            manager,
            paramNames,
            params,
            config,
            config.optimizer() == TrainConfig.OptimizerKind.ADAMW_8BIT);
    this.graphs = GraphedSteps.forRun(model, params, config, chunkRows(model.config().vocabSize()));
  }

  /**
   * Runs every micro-step in {@link GraphedSteps}' bucketed formulation eagerly (no graphs): the
   * CPU twin of the CUDA-graph path, for tests and the GPU check's comparison.
   */
  public void useBucketedSteps() {
    if (graphs != null) {
      graphs.close();
    }
    graphs = new GraphedSteps(model, params, false, chunkRows(model.config().vocabSize()));
  }

  /** Micro-steps replayed from CUDA graphs so far (0 without them). */
  public long graphReplays() {
    return graphs == null ? 0 : graphs.replays();
  }

  /**
   * A trainer that continues the run saved in {@code checkpoint}: the model must be built the same
   * way (use {@link Checkpoint#readConfig}) with the same data.
   */
  public static Trainer resume(
      Path checkpoint,
      CausalLM model,
      Map<String, LoraLinear> lora,
      List<String> allLinear,
      List<Example> data,
      Path checkpointRoot)
      throws IOException {
    TrainConfig config = Checkpoint.readConfig(checkpoint);
    Checkpoint.State state = Checkpoint.readState(checkpoint);
    Trainer t =
        new Trainer(model, lora, allLinear, config, data, checkpointRoot, state.baseModel());
    try {
      if (state.totalSteps() != t.totalSteps) {
        throw new IllegalArgumentException(
            checkpoint
                + " was planned for "
                + state.totalSteps()
                + " steps but this data gives "
                + t.totalSteps
                + " (is it the same training set?)");
      }
      try (NDManager tmp = t.manager.newSubManager()) {
        PeftAdapter.load(checkpoint, tmp).applyTo(lora);
        t.optimizer.load(Checkpoint.readOptimizer(checkpoint, tmp));
      }
      t.step = state.step();
      t.scaler.restore(state.lossScale(), state.goodSteps());
      t.history = Checkpoint.historyOf(state);
      t.evalHistory.addAll(Checkpoint.evalHistoryOf(state));
      t.earlyStopping = new EarlyStopping(config.evalPolicy(), state.earlyStopping());
      t.stoppedEarly = t.earlyStopping.exhausted();
      t.best.restoreFrom(checkpoint);
      t.lastCheckpoint = checkpoint;
      return t;
    } catch (RuntimeException | IOException e) {
      t.close(); // the optimizer state and the trainer's manager are native memory
      throw e;
    }
  }

  public void addProgressListener(TrainProgress listener) {
    progress.add(listener);
  }

  public void addCheckpointListener(CheckpointListener listener) {
    checkpointListeners.add(listener);
  }

  public void addEvalListener(EvalListener listener) {
    evalListeners.add(listener);
  }

  /**
   * The held-out split that the {@link EvalPolicy} of the config evaluates on (answer tokens only,
   * in batches of batchSize). Without it (or with an empty split) the run does not evaluate, does
   * not stop early and publishes its last weights.
   */
  public void setHeldOut(List<Example> examples) {
    List<Example> set = List.copyOf(examples);
    setHeldOutLoss(set.isEmpty() ? null : step -> lossAndCount(set));
  }

  /** The evaluator hook itself (tests script a loss curve through it). */
  void setHeldOutLoss(HeldOutLoss loss) {
    this.heldOut = config.evalPolicy().enabled() ? loss : null;
  }

  /** Held-out evaluations so far (resumed ones included). */
  public List<EvalMetrics> evalHistory() {
    return List.copyOf(evalHistory);
  }

  /** Best held-out loss so far, its step and the patience counter. */
  public EarlyStopping.State earlyStoppingState() {
    return earlyStopping.state();
  }

  /** Ask the loop to checkpoint and return at the next step boundary (thread-safe). */
  public void requestStop() {
    stopRequested = true;
  }

  public long step() {
    return step;
  }

  public long totalSteps() {
    return totalSteps;
  }

  /** Step metrics so far in bounded form (totals over every step, the newest steps, a curve). */
  public StepHistory.Snapshot history() {
    return history.snapshot();
  }

  /**
   * Trains until the planned steps are done or a stop is requested. Writes a checkpoint every
   * checkpointEvery steps, on stop, and at the end.
   */
  public TrainOutcome run() throws InterruptedException, IOException {
    boolean gradMode = Autograd.gradMode();
    setTraining(true);
    try {
      while (step < totalSteps && !stoppedEarly) {
        if (stopRequested) {
          checkpoint();
          return result(true);
        }
        StepMetrics m = trainStep();
        history.add(m);
        if (step % config.logEvery() == 0 || step == totalSteps) {
          for (TrainProgress p : progress) {
            p.onStep(m);
          }
        }
        if (heldOut != null && config.evalPolicy().due(step, endsEpoch(step))) {
          EvalMetrics e = evaluateHeldOut(m.epoch());
          if (e.stop()) {
            stoppedEarly = true;
            break; // the checkpoint below records the early stop
          }
        }
        if (config.checkpointEvery() > 0
            && step % config.checkpointEvery() == 0
            && step < totalSteps) {
          checkpoint();
        }
      }
      if (lastCheckpoint == null || !lastCheckpoint.endsWith("step-" + step)) {
        checkpoint();
      }
      return result(false);
    } finally {
      setTraining(false);
      Autograd.setGradMode(gradMode);
    }
  }

  private TrainOutcome result(boolean stopped) {
    EarlyStopping.State s = earlyStopping.state();
    return new TrainOutcome(
        step,
        totalSteps,
        stopped,
        history.snapshot(),
        lastCheckpoint,
        stoppedEarly,
        best.present() ? s.bestStep() : -1,
        best.present() ? s.bestLoss() : null,
        List.copyOf(evalHistory));
  }

  /** True when optimizer step {@code done} (1-based) consumed the last micro-batch of an epoch. */
  private boolean endsEpoch(long done) {
    long next = done * config.gradAccumulation(); // first micro-batch of the next step
    return next >= plan.totalBatches() || plan.epochOf(next) != plan.epochOf(next - 1);
  }

  /** The evaluator hook: measure, report, update the early-stopping state and the best adapter. */
  private EvalMetrics evaluateHeldOut(int epoch) throws IOException {
    double[] r = heldOut.measure(step);
    EarlyStopping.Decision d = earlyStopping.observe(step, r[0]);
    if (d.improved()) {
      best.replace(this::saveAdapter);
    }
    EarlyStopping.State s = earlyStopping.state();
    EvalMetrics e =
        new EvalMetrics(
            step, epoch, r[0], (long) r[1], d.improved(), s.bestStep(), s.bestLoss(), d.stop());
    evalHistory.add(e);
    for (EvalListener l : evalListeners) {
      l.onEval(e);
    }
    return e;
  }

  private boolean training;

  private void setTraining(boolean on) {
    training = on;
    lora.values().forEach(m -> m.setTraining(on));
  }

  /** One optimizer step over gradAccumulation micro-batches. */
  private StepMetrics trainStep() throws InterruptedException {
    long start = System.nanoTime();
    double scale = scaler.scale();
    // micro-batch losses stay on the device until the step's one sync (the gradient norm), so the
    // host never waits for a forward pass to finish before it queues the backward
    List<NDArray> losses = new ArrayList<>();
    long tokens = 0;
    int micro = 0;
    int epoch = 0;
    for (int k = 0; k < config.gradAccumulation(); k++) {
      long index = step * config.gradAccumulation() + k;
      if (index >= plan.totalBatches()) {
        break;
      }
      if (Thread.interrupted()) {
        throw new InterruptedException("training interrupted at step " + step);
      }
      epoch = plan.epochOf(index);
      List<Example> batch = plan.batch(index);
      for (Example e : batch) {
        tokens += e.length();
      }
      losses.add(microStep(batch, index, scale / config.gradAccumulation(), manager));
      micro++;
    }
    double lr = schedule.lr(step);
    double lossSum = 0;
    double gradNorm;
    boolean skipped;
    Autograd.setGradMode(false);
    try (NDManager scope = manager.newSubManager()) {
      // the gradients are the leaves' own float32 .grad tensors, scaled by the loss scale; the
      // norm comes from one flat concatenation, and unscaling and clipping are one multiply per
      // parameter with a shared device scalar (a power-of-two scale makes this bit-identical to
      // unscaling first)
      // GPU fast path: the norm and the whole update are two native calls over every parameter
      // (AdamW.stepFused) instead of ~10 DJL ops per parameter
      boolean fused = optimizer instanceof AdamW adam && adam.fusedActiveFor(params);
      List<NDArray> grads = fused ? null : new ArrayList<>(params.size());
      NDArray sumSquares = fused ? FastOps.gradSumSquares(params, scope) : null;
      List<NDArray> run = new ArrayList<>();
      long runSize = 0;
      for (int i = 0; !fused && i < params.size(); i++) {
        NDArray p = params.get(i);
        NDArray g = Autograd.gradient(p);
        if (g == null) {
          g = scope.zeros(p.getShape(), DataType.FLOAT32);
        }
        g.attach(scope);
        grads.add(g);
        NDArray row = g.reshape(-1);
        row.attach(scope);
        run.add(row);
        runSize += row.size();
        // runs of about a million elements bound the concatenation (a 70B LoRA has 207M)
        if (runSize >= AdamW.CHUNK || i == params.size() - 1) {
          NDArray part =
              run.size() == 1
                  ? run.get(0).square().sum()
                  : ai.djl.ndarray.NDArrays.concat(new ai.djl.ndarray.NDList(run)).square().sum();
          sumSquares = sumSquares == null ? part : sumSquares.add(part);
          run.clear();
          runSize = 0;
        }
      }
      gradNorm = Math.sqrt(sumSquares.getFloat()) / scale;
      for (NDArray l : losses) {
        lossSum += l.getFloat(); // already computed: the norm above waited for the whole step
        l.close();
      }
      boolean finite = Double.isFinite(gradNorm);
      skipped = !scaler.update(finite);
      if (!skipped) {
        double clip = 1;
        if (config.maxGradNorm() > 0 && gradNorm > config.maxGradNorm()) {
          clip = (float) (config.maxGradNorm() / (gradNorm + 1e-6));
        }
        NDArray coef = io.loraflow.engine.model.Scalars.like(sumSquares, clip / scale);
        if (fused) {
          ((AdamW) optimizer).stepFused(params, coef, lr, step + 1 - history.skipped());
        } else {
          grads.forEach(g -> g.muli(coef));
          optimizer.step(params, grads, lr, step + 1 - history.skipped());
        }
      }
      if (!fused || skipped) {
        params.forEach(Autograd::zeroGradient); // the fused step zeroed them in place
      }
    }
    step++;
    double seconds = (System.nanoTime() - start) / 1e9;
    return new StepMetrics(
        step,
        totalSteps,
        epoch,
        lossSum / Math.max(1, micro),
        lr,
        skipped ? Double.NaN : gradNorm,
        scale,
        skipped,
        tokens / seconds,
        MemoryProbe.bytesInUse(params.get(0).getDevice()));
  }

  /**
   * Forward + backward of one micro-batch; gradients accumulate into the LoRA weights.
   *
   * @param lossHome manager that receives the returned loss
   * @return the micro-batch's mean token loss, a float32 scalar on the device (read it later:
   *     reading it here would make the host wait for the forward pass)
   */
  private NDArray microStep(
      List<Example> batch, long index, double lossMultiplier, NDManager lossHome) {
    if (graphs != null) {
      NDArray loss = graphs.run(batch, dropoutSeed(index, 0), lossMultiplier, lossHome);
      if (loss != null) {
        return loss;
      }
    }
    int rows = batch.size();
    int seqLen = batch.stream().mapToInt(Example::length).max().orElseThrow();
    long[] ids = new long[rows * seqLen];
    long[] positions = new long[rows * seqLen];
    long[] keep = new long[rows * seqLen];
    long[][] labels = new long[rows][];
    boolean padded = false;
    for (int b = 0; b < rows; b++) {
      Example e = batch.get(b);
      labels[b] = new long[seqLen];
      java.util.Arrays.fill(labels[b], Example.IGNORE);
      for (int t = 0; t < seqLen; t++) {
        int i = b * seqLen + t;
        positions[i] = t;
        if (t < e.length()) {
          ids[i] = e.inputIds()[t];
          labels[b][t] = e.labels()[t];
          keep[i] = 1;
        } else {
          padded = true; // right padding: id 0, masked as a key, never a target
        }
      }
    }
    CausalLmLoss.Targets targets = CausalLmLoss.targets(labels, seqLen);
    Device device = params.get(0).getDevice();
    try (NDManager m = NDManager.newBaseManager(device)) {
      NDArray idArray = m.create(ids, new Shape(rows, seqLen));
      NDArray[] lossTargets = CausalLmLoss.onDevice(targets, m);
      AttentionStep attention =
          new AttentionStep(
              m.create(positions, new Shape(rows, seqLen)),
              padded ? m.create(keep, new Shape(rows, seqLen)) : null,
              null);
      NDArray loss =
          config.gradientCheckpointing()
              ? checkpointedPass(m, idArray, attention, lossTargets, index, lossMultiplier)
              : recordedPass(m, idArray, attention, lossTargets, index, lossMultiplier);
      loss.attach(lossHome);
      return loss;
    }
  }

  /**
   * @return the mean token loss, detached, in {@code m}
   */
  private NDArray recordedPass(
      NDManager m,
      NDArray ids,
      AttentionStep attention,
      NDArray[] targets,
      long index,
      double lossMultiplier) {
    Autograd.setGradMode(true);
    NDArray h = model.embed(ids);
    for (int l = 0; l < model.config().numLayers(); l++) {
      Autograd.seed(dropoutSeed(index, l));
      h = model.block(l, h, attention);
    }
    // the head and loss on a leaf copy of h, chunk by chunk; then one backward through the blocks
    NDArray last = h.stopGradient();
    last.attach(m);
    last.setRequiresGradient(true);
    NDArray value = headBackward(m, last, targets, lossMultiplier);
    NDArray gradOut = Autograd.gradient(last);
    gradOut.attach(m);
    Autograd.backward(h, gradOut);
    Autograd.setGradMode(false);
    return value;
  }

  /**
   * Loss of the supervised positions of {@code last} (a leaf requiring a gradient) and its backward
   * into last's .grad, in chunks of {@link #headChunkRows} positions: each chunk's (rows, vocab)
   * logits, log-probabilities and their gradients are freed before the next chunk, so the head's
   * peak memory is one chunk's, whatever the batch and sequence length (a 128k vocabulary at 2048
   * positions would be ~3 GB at once). One chunk when they fit: the same ops as an unchunked loss.
   *
   * @return the mean token loss, detached, in {@code m}
   */
  private NDArray headBackward(
      NDManager m, NDArray last, NDArray[] targets, double lossMultiplier) {
    long n = targets[0].size();
    long rows = headChunkRows > 0 ? headChunkRows : chunkRows(model.config().vocabSize());
    NDArray value = null;
    for (long from = 0; from < n; from += rows) {
      long to = Math.min(n, from + rows);
      try (NDManager chunk = m.newSubManager()) {
        last.tempAttach(chunk); // the head's temporaries die with the chunk, last stays in m
        NDArray positions = n == to - from ? targets[0] : targets[0].get(from + ":" + to);
        NDArray labels = n == to - from ? targets[1] : targets[1].get(from + ":" + to);
        NDArray sum = CausalLmLoss.sum(model, last, positions, labels);
        NDArray loss = sum.div(io.loraflow.engine.model.Scalars.like(sum, n));
        NDArray part = loss.stopGradient();
        part.attach(m);
        value = value == null ? part : value.addi(part);
        NDArray seed =
            chunk
                .full(new Shape(), (float) lossMultiplier, DataType.FLOAT32)
                .toDevice(loss.getDevice(), false);
        Autograd.backward(loss, seed);
      }
    }
    return value;
  }

  /** Bytes one loss chunk may take: (rows, vocab) fp16 logits + fp32 log-probs + gradients. */
  static final long HEAD_CHUNK_BYTES = 256L << 20;

  /** Positions per loss chunk for a vocabulary: {@link #HEAD_CHUNK_BYTES} / (12 bytes x vocab). */
  static long chunkRows(int vocab) {
    return Math.max(1, HEAD_CHUNK_BYTES / (12L * vocab));
  }

  private long headChunkRows; // 0: chunkRows(vocab); tests set it to force several chunks

  /** Forces {@code rows} positions per loss chunk (tests of the chunked loss). */
  void setHeadChunkRows(long rows) {
    this.headChunkRows = rows;
  }

  /**
   * @return the mean token loss, detached, in {@code m}
   */
  private NDArray checkpointedPass(
      NDManager m,
      NDArray ids,
      AttentionStep attention,
      NDArray[] targets,
      long index,
      double lossMultiplier) {
    int layers = model.config().numLayers();
    NDArray[] inputs = new NDArray[layers + 1];
    Autograd.setGradMode(false);
    inputs[0] = model.embed(ids);
    for (int l = 0; l < layers; l++) {
      try (NDManager blockScope = m.newSubManager()) {
        inputs[l].tempAttach(blockScope);
        Autograd.seed(dropoutSeed(index, l));
        NDArray out = model.block(l, inputs[l], attention);
        out.attach(m);
        inputs[l + 1] = out;
      }
    }
    // loss on the last hidden state, recorded
    Autograd.setGradMode(true);
    NDArray last = inputs[layers];
    last.setRequiresGradient(true);
    NDArray value = headBackward(m, last, targets, lossMultiplier);
    NDArray gradOut = Autograd.gradient(last);
    gradOut.attach(m);
    // backward through the blocks, recomputing each from its input
    for (int l = layers - 1; l >= 0; l--) {
      try (NDManager blockScope = m.newSubManager()) {
        NDArray input = inputs[l].stopGradient();
        input.attach(blockScope);
        boolean needInputGrad = l > 0;
        if (needInputGrad) {
          input.setRequiresGradient(true);
        }
        Autograd.seed(dropoutSeed(index, l));
        NDArray out = model.block(l, input, attention);
        out.attach(blockScope);
        gradOut.attach(blockScope); // consumed here: freed with the scope
        Autograd.backward(out, gradOut);
        if (needInputGrad) {
          NDArray next = Autograd.gradient(input);
          next.attach(m);
          gradOut = next;
        }
      }
      inputs[l + 1].close();
    }
    Autograd.setGradMode(false);
    return value;
  }

  /**
   * Runs forward and backward of one micro-batch with the loss unscaled (mean token loss) and
   * returns the LoRA gradients by parameter name, then zeroes them. For gradient tests.
   */
  Map<String, float[]> gradientsOf(List<Example> batch) {
    return gradientsOf(batch, 0);
  }

  /** The same with the dropout masks of micro-batch {@code index} (as the training step uses). */
  Map<String, float[]> gradientsOf(List<Example> batch, long index) {
    boolean gradMode = Autograd.gradMode();
    try {
      microStep(batch, index, 1.0, manager).close();
      Map<String, float[]> out = new java.util.LinkedHashMap<>();
      for (int i = 0; i < params.size(); i++) {
        NDArray g = Autograd.gradient(params.get(i));
        out.put(paramNames.get(i), g.toType(DataType.FLOAT32, false).toFloatArray());
        g.close();
        Autograd.zeroGradient(params.get(i));
      }
      return out;
    } finally {
      Autograd.setGradMode(gradMode);
    }
  }

  /** Seed of torch's generator before block {@code layer} of micro-batch {@code index}. */
  private long dropoutSeed(long index, int layer) {
    long x = config.seed() * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + layer;
    x ^= x >>> 31;
    x *= 0x94D049BB133111EBL;
    return x ^ (x >>> 29);
  }

  /**
   * Mean token loss of {@code examples} (answer tokens only), with dropout off and no gradients, in
   * batches of batchSize.
   */
  public double evaluate(List<Example> examples) {
    return lossAndCount(examples)[0];
  }

  /** {mean answer-token loss, answer tokens} of {@code examples}; see {@link #evaluate}. */
  private double[] lossAndCount(List<Example> examples) {
    boolean gradMode = Autograd.gradMode();
    boolean wasTraining = training;
    setTraining(false);
    Autograd.setGradMode(false);
    double total = 0;
    long count = 0;
    try {
      for (int i = 0; i < examples.size(); i += config.batchSize()) {
        List<Example> batch =
            examples.subList(i, Math.min(examples.size(), i + config.batchSize()));
        double[] r = LossEvaluator.batchLoss(model, batch, params.get(0).getDevice());
        total += r[0];
        count += (long) r[1];
      }
    } finally {
      Autograd.setGradMode(gradMode);
      setTraining(wasTraining);
    }
    return new double[] {total / Math.max(1, count), count};
  }

  /** Writes a complete checkpoint for the current step and notifies the listeners. */
  public Path checkpoint() throws IOException {
    Path dir = checkpointRoot.resolve("step-" + step);
    Checkpoint.prepare(dir);
    PeftAdapter.save(dir, lora, allLinear, config.lora(List.copyOf(targetsOf())), baseModel);
    best.copyInto(dir);
    Checkpoint.finish(
        dir,
        optimizer.state(),
        new Checkpoint.State(
            step,
            totalSteps,
            scaler.scale(),
            scaler.goodSteps(),
            config.seed(),
            baseModel,
            history.recent(),
            List.copyOf(evalHistory),
            earlyStopping.state(),
            history.totals()),
        config);
    lastCheckpoint = dir;
    for (CheckpointListener l : checkpointListeners) {
      try {
        l.onCheckpoint(step, dir);
      } catch (IOException | RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IOException("checkpoint listener failed for " + dir + ": " + e.getMessage(), e);
      }
    }
    return dir;
  }

  /** Writes just the PEFT adapter of the current weights into {@code dir}. */
  public void saveAdapter(Path dir) throws IOException {
    Files.createDirectories(dir);
    PeftAdapter.save(dir, lora, allLinear, config.lora(targetsOf()), baseModel);
  }

  /**
   * Writes the adapter a run publishes into {@code dir}: the best by held-out loss when the run
   * evaluated during training, else the current weights.
   */
  public void savePublishedAdapter(Path dir) throws IOException {
    if (best.present()) {
      best.copyTo(dir);
    } else {
      saveAdapter(dir);
    }
  }

  private List<String> targetsOf() {
    return config.targetModules().isEmpty()
        ? List.of(io.loraflow.engine.lora.LoraConfig.ALL_LINEAR)
        : config.targetModules();
  }

  @Override
  public void close() {
    if (graphs != null) {
      graphs.close();
    }
    optimizer.close();
    manager.close();
  }
}
