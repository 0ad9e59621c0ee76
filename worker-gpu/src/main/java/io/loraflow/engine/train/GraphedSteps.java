package io.loraflow.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.loraflow.engine.model.AttentionStep;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.nativeops.FastOps;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer's micro-step (forward, loss, backward into the LoRA gradients) as one CUDA graph per
 * batch shape, replayed instead of re-issued op by op.
 *
 * <p>Why: a small model's step is launch-bound. SmolLM2-135M issues ~30k ATen ops per 64-token step
 * at ~5 us of host time each, while its GPU work is a few milliseconds; a replay launches the whole
 * step's kernels at once.
 *
 * <p>What is captured is the <em>bucketed</em> micro-step, which differs from the trainer's plain
 * one in ways that change the loss and the gradients by float rounding only:
 *
 * <ul>
 *   <li>rows are padded on the right to a multiple of {@link #LENGTH_QUANTUM} tokens, so shapes
 *       repeat (a graph's shapes are fixed);
 *   <li>no key-padding mask: with right padding no real position attends to a padded one (causal)
 *       and padded positions carry no loss, so the mask changes no supervised output or gradient
 *       (causal-only attention is also the fused kernel's fastest path);
 *   <li>the loss covers every position with a 0/1 weight (fixed shapes) instead of gathering the
 *       supervised ones, and the token count and the backward seed (loss scale / accumulation) are
 *       device scalars written before each replay (a graph replays its captured constants);
 *   <li>dropout masks are seeded once per micro-step, not per layer: seeding is not allowed during
 *       a capture, and a replay's random numbers start from the generator's seed at replay time, so
 *       a micro-step gets the same masks whether it replays or runs eagerly (a resumed run repeats
 *       its masks).
 * </ul>
 *
 * <p>A bucket's first micro-step runs eagerly (the warm-up a capture needs: cuBLAS workspaces, lazy
 * initialisation; its gradients count), the second is captured and replayed, later ones replay. A
 * capture that fails (an op that copies from the host) is abandoned with one log line, and this
 * trainer's later micro-steps run the same formulation eagerly. A replay accumulates into the
 * gradient addresses it captured, so they are compared before every replay; a change drops the
 * graphs (they are captured again). Shapes beyond {@link #MAX_GRAPHS} run eagerly.
 *
 * <p>With {@code capture} false (the CPU twin, and what the GPU check compares against) every
 * micro-step runs the bucketed formulation eagerly.
 */
final class GraphedSteps implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(GraphedSteps.class);

  /** Rows are padded to a multiple of this many tokens (bounds the number of distinct shapes). */
  static final int LENGTH_QUANTUM = 16;

  /** Most graphs one trainer keeps; their memory comes from one shared pool. */
  static final int MAX_GRAPHS = 16;

  private final CausalLM model;
  private final List<NDArray> params;
  private final boolean capture;
  private final long maxPositions;
  private final NDManager manager;
  private final Map<Long, Bucket> buckets = new LinkedHashMap<>();
  private long pool;
  private boolean broken;
  private long[] gradAddresses;
  private long replays;
  private long eager;

  /**
   * @param params the trainer's LoRA leaves (their .grad tensors are what a replay accumulates)
   * @param capture true: capture and replay CUDA graphs (needs the GPU fast path); false: the same
   *     formulation eagerly
   * @param maxPositions most rows x length a micro-step may have (its logits are one loss chunk)
   */
  GraphedSteps(CausalLM model, List<NDArray> params, boolean capture, long maxPositions) {
    this.model = model;
    this.params = List.copyOf(params);
    this.capture = capture;
    this.maxPositions = maxPositions;
    this.manager = params.get(0).getManager().newSubManager();
  }

  /**
   * Graphs for this run, or null when it cannot use them (logged with the reason): they need the
   * GPU fast path with {@code LORAFLOW_CUDA_GRAPHS} not off, and no gradient checkpointing (a
   * recomputed block is a second forward inside the step, which the plain path handles).
   */
  static GraphedSteps forRun(
      CausalLM model, List<NDArray> params, TrainConfig config, long maxPositions) {
    NDArray probe = params.get(0);
    if (!FastOps.graphsActiveFor(probe)) {
      return null;
    }
    if (config.gradientCheckpointing()) {
      LOG.info("training steps: CUDA graphs off (gradient checkpointing is on)");
      return null;
    }
    LOG.info(
        "training steps: CUDA graphs per batch shape (rows padded to a multiple of {} tokens, up"
            + " to {} shapes)",
        LENGTH_QUANTUM,
        MAX_GRAPHS);
    return new GraphedSteps(model, params, true, maxPositions);
  }

  /** The padded length of a batch whose longest example has {@code maxLen} tokens. */
  static int bucketLength(int maxLen) {
    return (maxLen + LENGTH_QUANTUM - 1) / LENGTH_QUANTUM * LENGTH_QUANTUM;
  }

  /**
   * {@link #bucketLength}, but never past {@code limit} unless the batch itself is longer: padding
   * must not reach positions the unpadded batch would not have (dynamic NTK rotary rescales every
   * position once a call's length passes max_position_embeddings).
   */
  static int bucketLength(int maxLen, int limit) {
    int padded = bucketLength(maxLen);
    return maxLen >= limit ? maxLen : Math.min(padded, limit);
  }

  /** The longest padded length this model's positions allow ({@link #bucketLength(int, int)}). */
  private static int lengthLimit(CausalLM model) {
    io.loraflow.engine.model.ModelConfig c = model.config();
    boolean dynamic = c.ropeScaling() != null && "dynamic".equals(c.ropeScaling().type());
    return dynamic ? c.maxPositions() : Integer.MAX_VALUE;
  }

  /**
   * One micro-step's host-side inputs in bucket shape: position t of row b predicts labels[b * L +
   * t] with weight 1 when the example's label at t + 1 is supervised (CausalLmLoss's rule), else
   * label 0 with weight 0.
   *
   * @param ids (rows * length) token ids, 0 after an example's end
   * @param labels (rows * length) next-token targets
   * @param weights (rows * length) 1 where supervised
   * @param supervised number of supervised positions
   */
  record Inputs(int rows, int length, long[] ids, long[] labels, float[] weights, int supervised) {

    static Inputs of(List<Example> batch, int length) {
      int rows = batch.size();
      long[] ids = new long[rows * length];
      long[] labels = new long[rows * length];
      float[] weights = new float[rows * length];
      int supervised = 0;
      for (int b = 0; b < rows; b++) {
        Example e = batch.get(b);
        if (e.length() > length) {
          throw new IllegalArgumentException(
              "example of " + e.length() + " tokens in a bucket of " + length);
        }
        for (int t = 0; t < e.length(); t++) {
          int i = b * length + t;
          ids[i] = e.inputIds()[t];
          if (t + 1 < e.length() && e.labels()[t + 1] != Example.IGNORE) {
            labels[i] = e.labels()[t + 1];
            weights[i] = 1f;
            supervised++;
          }
        }
      }
      return new Inputs(rows, length, ids, labels, weights, supervised);
    }
  }

  /**
   * Forward + backward of one micro-batch in the bucketed formulation; gradients accumulate into
   * the LoRA leaves.
   *
   * @param dropoutSeed the micro-step's seed (dropout masks are a function of it)
   * @param lossMultiplier the backward seed: loss scale / gradient accumulation
   * @return the micro-batch's mean token loss, a float32 scalar on the device in {@code lossHome};
   *     null when this batch is too large for one loss chunk (the caller runs its plain step)
   */
  NDArray run(List<Example> batch, long dropoutSeed, double lossMultiplier, NDManager lossHome) {
    int maxLen = batch.stream().mapToInt(Example::length).max().orElseThrow();
    Inputs in = Inputs.of(batch, bucketLength(maxLen, lengthLimit(model)));
    if ((long) in.rows() * in.length() > maxPositions) {
      return null;
    }
    Autograd.seed(dropoutSeed); // before any capture or replay: never during one
    if (!capture || broken) {
      return eagerOnce(in, lossMultiplier, lossHome);
    }
    long key = ((long) in.rows() << 32) | in.length();
    Bucket b = buckets.get(key);
    if (b == null) {
      if (buckets.size() >= MAX_GRAPHS) {
        return eagerOnce(in, lossMultiplier, lossHome);
      }
      b = new Bucket(in.rows(), in.length());
      buckets.put(key, b);
      b.write(in, lossMultiplier);
      return eagerInBucket(b, lossHome); // the warm-up; the next step of this shape is captured
    }
    b.write(in, lossMultiplier);
    if (b.graph != 0 && !Arrays.equals(FastOps.gradPointers(params), gradAddresses)) {
      LOG.info("training steps: the LoRA gradients moved; capturing the step graphs again");
      dropGraphs();
    }
    if (b.graph == 0 && !b.capture()) {
      return eagerInBucket(b, lossHome);
    }
    FastOps.graphReplay(b.graph);
    replays++;
    NDArray out = b.loss.duplicate(); // the next replay overwrites the graph's own output
    out.attach(lossHome);
    return out;
  }

  private NDArray eagerInBucket(Bucket b, NDManager lossHome) {
    eager++;
    NDArray loss = pass(b.statics, b.home);
    loss.attach(lossHome);
    return loss;
  }

  /** Micro-steps replayed from a graph so far. */
  long replays() {
    return replays;
  }

  /** Micro-steps run eagerly in this formulation so far (warm-ups, fallbacks, the CPU twin). */
  long eagerSteps() {
    return eager;
  }

  /** Graphs captured and kept now. */
  int graphs() {
    return (int) buckets.values().stream().filter(b -> b.graph != 0).count();
  }

  private void dropGraphs() {
    for (Bucket b : buckets.values()) {
      b.freeGraph();
    }
    gradAddresses = null;
  }

  @Override
  public void close() {
    dropGraphs();
    List<Bucket> all = new ArrayList<>(buckets.values());
    buckets.clear();
    all.forEach(Bucket::close);
    manager.close();
  }

  /**
   * The device arrays one micro-step reads.
   *
   * @param ids (rows, length) int64
   * @param labels (rows * length, 1) int64
   * @param weights (rows * length, 1) float32
   * @param count () float32: supervised positions
   * @param seed () float32: d(objective)/d(mean loss) = loss scale / accumulation
   * @param attention positions 0..length-1 per row, no key padding
   */
  private record StepArrays(
      int rows,
      int length,
      NDArray ids,
      NDArray labels,
      NDArray weights,
      NDArray count,
      NDArray seed,
      AttentionStep attention) {

    /** {@code in} on the device, with the caller's {@code attention} (a bucket's own, or fresh). */
    static StepArrays of(
        NDManager home, Inputs in, double lossMultiplier, AttentionStep attention) {
      int rows = in.rows();
      int length = in.length();
      return new StepArrays(
          rows,
          length,
          home.create(in.ids(), new Shape(rows, length)),
          home.create(in.labels(), new Shape((long) rows * length, 1)),
          home.create(in.weights(), new Shape((long) rows * length, 1)),
          home.create((float) in.supervised()),
          home.create((float) lossMultiplier),
          attention);
    }

    static StepArrays zeros(NDManager home, int rows, int length) {
      return new StepArrays(
          rows,
          length,
          home.zeros(new Shape(rows, length), DataType.INT64),
          home.zeros(new Shape((long) rows * length, 1), DataType.INT64),
          home.zeros(new Shape((long) rows * length, 1), DataType.FLOAT32),
          home.zeros(new Shape(), DataType.FLOAT32),
          home.zeros(new Shape(), DataType.FLOAT32),
          attention(home, rows, length));
    }

    private static AttentionStep attention(NDManager home, int rows, int length) {
      long[] positions = new long[rows * length];
      for (int i = 0; i < positions.length; i++) {
        positions[i] = i % length;
      }
      return new AttentionStep(home.create(positions, new Shape(rows, length)), null, null);
    }

    /** this <- other, in place (a graph reads these addresses), ordered after earlier replays. */
    void copyFrom(StepArrays other) {
      FastOps.copyInto(ids, other.ids);
      FastOps.copyInto(labels, other.labels);
      FastOps.copyInto(weights, other.weights);
      FastOps.copyInto(count, other.count);
      FastOps.copyInto(seed, other.seed);
    }
  }

  /** A micro-step run eagerly on fresh arrays. */
  private NDArray eagerOnce(Inputs in, double lossMultiplier, NDManager lossHome) {
    eager++;
    try (NDManager tmp = manager.newSubManager()) {
      NDArray loss =
          pass(
              StepArrays.of(
                  tmp, in, lossMultiplier, StepArrays.attention(tmp, in.rows(), in.length())),
              tmp);
      loss.attach(lossHome);
      return loss;
    }
  }

  /**
   * Embedding, blocks, head and loss over every position, then one backward with {@code a.seed}.
   *
   * @return the mean token loss, detached, in {@code home}
   */
  private NDArray pass(StepArrays a, NDManager home) {
    try (NDManager m = home.newSubManager()) {
      a.ids().tempAttach(m); // every op's result lands in m (the first operand's manager)
      Autograd.setGradMode(true);
      try {
        NDArray h = model.embed(a.ids());
        for (int l = 0; l < model.config().numLayers(); l++) {
          h = model.block(l, h, a.attention());
        }
        NDArray logits = model.head(h); // (rows, length, V)
        NDArray logProbs =
            JniUtils.logSoftmax((PtNDArray) logits, -1, DataType.FLOAT32)
                .reshape((long) a.rows() * a.length(), -1);
        NDArray value = logProbs.gather(a.labels(), 1).mul(a.weights()).sum().neg().div(a.count());
        Autograd.backward(value, a.seed());
        NDArray detached = value.stopGradient();
        detached.attach(home);
        return detached;
      } finally {
        Autograd.setGradMode(false);
      }
    }
  }

  /** One (rows, length) shape: the graph's static inputs, the graph and its loss output. */
  private final class Bucket implements AutoCloseable {
    final NDManager home;
    final StepArrays statics;
    long graph;
    NDArray loss; // () float32, the graph's output

    Bucket(int rows, int length) {
      this.home = manager.newSubManager();
      this.statics = StepArrays.zeros(home, rows, length);
    }

    void write(Inputs in, double lossMultiplier) {
      try (NDManager tmp = home.newSubManager()) {
        // copyFrom reads the five inputs only: the bucket's own positions serve
        statics.copyFrom(StepArrays.of(tmp, in, lossMultiplier, statics.attention()));
      }
    }

    /** Captures this bucket's step; false (logged, this trainer's graphs off) if it fails. */
    boolean capture() {
      long[] before = FastOps.gradPointers(params);
      for (long address : before) {
        if (address == 0) {
          return false; // a leaf has no gradient yet: its first one would be the graph's own
        }
      }
      if (gradAddresses != null && !Arrays.equals(before, gradAddresses)) {
        dropGraphs();
      }
      if (pool == 0) {
        pool = FastOps.graphPool();
      }
      // rotary tables and mask involve host copies: made now, memoized for the captured blocks
      model.prepareStep(statics.attention(), statics.rows(), statics.length());
      long g = FastOps.graphBegin(pool);
      NDArray out;
      try {
        out = pass(statics, home);
        FastOps.graphEnd(g);
      } catch (RuntimeException e) {
        FastOps.graphAbort(g);
        FastOps.graphFree(g);
        broken = true;
        dropGraphs();
        LOG.warn(
            "training steps: CUDA graph capture failed ({}); running the steps eagerly",
            e.getMessage());
        return false;
      }
      graph = g;
      loss = out;
      gradAddresses = before;
      return true;
    }

    void freeGraph() {
      if (graph != 0) {
        FastOps.graphFree(graph);
        graph = 0;
      }
      if (loss != null) {
        loss.close();
        loss = null;
      }
    }

    @Override
    public void close() {
      freeGraph();
      home.close();
    }
  }
}
