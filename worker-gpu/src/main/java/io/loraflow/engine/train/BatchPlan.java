package io.loraflow.engine.train;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The deterministic order of micro-batches over all epochs: epoch e shuffles the rows with {@code
 * SplittableRandom(seed + e)} (Fisher-Yates), then cuts them into batches of batchSize (the last
 * one may be smaller). A row is one example, or with packing several examples concatenated up to
 * maxSeqLen. Nothing here has state: micro-batch i is a pure function of (data, config, i), which
 * is what makes a resumed run see exactly the data the uninterrupted run would.
 */
public final class BatchPlan {

  private final List<Example> rows;
  private final int batchSize;
  private final int epochs;
  private final long seed;
  private final int batchesPerEpoch;
  private int[] order;
  private int orderEpoch = -1;

  public BatchPlan(List<Example> examples, TrainConfig config) {
    this.rows = config.packing() ? pack(examples, config.maxSeqLen()) : List.copyOf(examples);
    this.batchSize = config.batchSize();
    this.epochs = config.epochs();
    this.seed = config.seed();
    this.batchesPerEpoch = (rows.size() + batchSize - 1) / batchSize;
  }

  /** Micro-batches in one epoch. */
  public int batchesPerEpoch() {
    return batchesPerEpoch;
  }

  /** Micro-batches in the whole run. */
  public long totalBatches() {
    return (long) batchesPerEpoch * epochs;
  }

  /** Epoch of micro-batch {@code index}. */
  public int epochOf(long index) {
    return (int) (index / batchesPerEpoch);
  }

  /** The rows of micro-batch {@code index} (0-based over the whole run). */
  public List<Example> batch(long index) {
    int epoch = epochOf(index);
    if (epoch != orderEpoch) {
      order = permutation(rows.size(), seed + epoch);
      orderEpoch = epoch;
    }
    int first = (int) (index % batchesPerEpoch) * batchSize;
    List<Example> out = new ArrayList<>(batchSize);
    for (int i = first; i < Math.min(first + batchSize, rows.size()); i++) {
      out.add(rows.get(order[i]));
    }
    return out;
  }

  static int[] permutation(int n, long seed) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    SplittableRandom rng = new SplittableRandom(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /**
   * Greedy packing in file order: examples are concatenated (each keeps its labels, so its EOS
   * still ends it) until the next would overflow maxSeqLen. Attention is not blocked between packed
   * examples (TRL's simple packing); positions run on across the row.
   */
  static List<Example> pack(List<Example> examples, int maxSeqLen) {
    List<Example> out = new ArrayList<>();
    long[] ids = new long[maxSeqLen];
    long[] labels = new long[maxSeqLen];
    int used = 0;
    for (Example e : examples) {
      if (used > 0 && used + e.length() > maxSeqLen) {
        out.add(
            new Example(java.util.Arrays.copyOf(ids, used), java.util.Arrays.copyOf(labels, used)));
        used = 0;
      }
      int n = Math.min(e.length(), maxSeqLen);
      System.arraycopy(e.inputIds(), 0, ids, used, n);
      System.arraycopy(e.labels(), 0, labels, used, n);
      // the first token of a packed example has no prediction from the previous example
      labels[used] = Example.IGNORE;
      used += n;
    }
    if (used > 0) {
      out.add(
          new Example(java.util.Arrays.copyOf(ids, used), java.util.Arrays.copyOf(labels, used)));
    }
    return out;
  }
}
