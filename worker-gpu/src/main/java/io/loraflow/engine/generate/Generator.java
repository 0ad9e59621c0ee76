package io.loraflow.engine.generate;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.model.AttentionStep;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.model.DynamicKvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batched autoregressive generation with a KV cache.
 *
 * <p>Prompts of different lengths are left padded (pad slots masked as keys, positions counted from
 * each prompt's first real token, as HF generate does), so every row's next token sits in the last
 * column. Each step runs one forward over the new column only; sampling happens on the host per
 * sequence (see {@link Sampler}). A finished row keeps being fed a pad token until the whole batch
 * is done; its output is ignored.
 */
public final class Generator {

  private static final Logger LOG = LoggerFactory.getLogger(Generator.class);
  private static final long PAD_ID = 0; // any valid id: pad slots are never attended to

  private final CausalLM model;
  private final Device device;
  private final TokenCodec codec;

  /**
   * @param device where the model's weights live (inputs are created there)
   * @param codec for stop strings and streamed text; may be null (then no text, no stop strings)
   */
  public Generator(CausalLM model, Device device, TokenCodec codec) {
    this.model = model;
    this.device = device;
    this.codec = codec;
  }

  /** Encodes each prompt with the codec and generates. */
  public GenerationResult generateText(
      List<String> prompts, GenerationConfig config, TokenListener listener) {
    if (codec == null) {
      throw new IllegalStateException("generateText needs a TokenCodec");
    }
    return generate(prompts.stream().map(codec::encode).toList(), config, listener);
  }

  /**
   * Continues each prompt.
   *
   * @param prompts token ids, each non-empty
   * @param listener receives tokens as they are chosen (called on this thread)
   */
  public GenerationResult generate(
      List<long[]> prompts, GenerationConfig config, TokenListener listener) {
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException("no prompts");
    }
    if (!config.stopStrings().isEmpty() && codec == null) {
      throw new IllegalArgumentException("stop strings need a TokenCodec to decode the text");
    }
    int batch = prompts.size();
    int vocab = model.config().vocabSize();
    int maxLength = 0;
    for (int b = 0; b < batch; b++) {
      long[] p = prompts.get(b);
      if (p.length == 0) {
        throw new IllegalArgumentException("prompt " + b + " is empty");
      }
      for (long id : p) {
        if (id < 0 || id >= vocab) {
          throw new IllegalArgumentException(
              "prompt "
                  + b
                  + " has token id "
                  + id
                  + " outside the vocabulary (size "
                  + vocab
                  + ")");
        }
      }
      maxLength = Math.max(maxLength, p.length);
    }
    final int longest = maxLength;
    int total = longest + config.maxNewTokens();
    if (total > model.config().maxPositions()) {
      // allowed (RoPE extrapolates) but worth knowing; HF warns the same way
      LOG.warn(
          "{} prompt + {} new tokens exceed max_position_embeddings {}",
          longest,
          config.maxNewTokens(),
          model.config().maxPositions());
    }
    Set<Long> eos = new HashSet<>();
    for (int id :
        config.eosTokenIds().isEmpty() ? model.config().eosTokenIds() : config.eosTokenIds()) {
      eos.add((long) id);
    }
    Sequence[] seqs = new Sequence[batch];
    for (int b = 0; b < batch; b++) {
      seqs[b] = new Sequence(b, prompts.get(b), longest, config, listener);
    }
    boolean padded = Arrays.stream(seqs).anyMatch(s -> s.promptLength != longest);

    long prefillNanos;
    long decodeNanos = 0;
    int steps = 0;
    try (NDManager root = NDManager.newBaseManager(device);
        DynamicKvCache cache = new DynamicKvCache(model.config().numLayers(), root)) {
      long start = System.nanoTime();
      float[][] logits;
      try (NDManager step = root.newSubManager()) {
        long[] ids = new long[batch * longest];
        long[] positions = new long[batch * longest];
        for (Sequence s : seqs) {
          s.fillPrompt(ids, positions);
        }
        logits =
            lastLogits(
                step,
                step.create(ids, new Shape(batch, longest)),
                step.create(positions, new Shape(batch, longest)),
                padded ? keyPadding(step, seqs, longest) : null,
                cache);
      }
      prefillNanos = System.nanoTime() - start;
      start = System.nanoTime();
      for (int i = 0; ; i++) {
        boolean running = false;
        for (Sequence s : seqs) {
          if (!s.done) {
            s.accept(logits[s.index], eos, codec);
            running |= !s.done;
          }
        }
        if (!running || i == config.maxNewTokens() - 1) {
          break;
        }
        int keys = longest + i + 1;
        try (NDManager step = root.newSubManager()) {
          long[] ids = new long[batch];
          long[] positions = new long[batch];
          for (Sequence s : seqs) {
            ids[s.index] = s.done ? PAD_ID : s.lastToken();
            positions[s.index] = s.promptLength + s.count - 1;
          }
          logits =
              lastLogits(
                  step,
                  step.create(ids, new Shape(batch, 1)),
                  step.create(positions, new Shape(batch, 1)),
                  padded ? keyPadding(step, seqs, keys) : null,
                  cache);
        }
        steps++;
      }
      decodeNanos = System.nanoTime() - start;
    }
    List<Generation> out = new ArrayList<>(batch);
    for (Sequence s : seqs) {
      out.add(s.finish(codec));
    }
    return new GenerationResult(out, prefillNanos, decodeNanos, steps);
  }

  /** (B, S) int64: 0 on each row's left padding, 1 on every real or generated slot. */
  private static NDArray keyPadding(NDManager m, Sequence[] seqs, int keys) {
    long[] mask = new long[seqs.length * keys];
    for (Sequence s : seqs) {
      int pad = s.padding;
      Arrays.fill(mask, s.index * keys + pad, (s.index + 1) * keys, 1L);
    }
    return m.create(mask, new Shape(seqs.length, keys));
  }

  /** Forward over ids (B, T); the LM head only on the last column -> fp32 host rows (B)(V). */
  private float[][] lastLogits(
      NDManager step, NDArray ids, NDArray positions, NDArray keyPadding, DynamicKvCache cache) {
    AttentionStep attention = new AttentionStep(positions, keyPadding, cache);
    NDArray h = model.embed(ids);
    for (int layer = 0; layer < model.config().numLayers(); layer++) {
      h = model.block(layer, h, attention);
    }
    long t = h.getShape().get(1);
    NDArray last = h.get(new NDIndex(":, {}:", t - 1));
    NDArray logits = model.head(last).toType(DataType.FLOAT32, false);
    int batch = (int) logits.getShape().get(0);
    int vocab = (int) logits.getShape().get(2);
    float[] flat = logits.toFloatArray();
    float[][] rows = new float[batch][];
    for (int b = 0; b < batch; b++) {
      rows[b] = Arrays.copyOfRange(flat, b * vocab, (b + 1) * vocab);
    }
    return rows;
  }

  /** The growing state of one row of the batch. */
  private static final class Sequence {
    final int index;
    final int promptLength;
    final int padding;
    final long[] seen; // prompt then generated ids (repetition penalty)
    final Sampler sampler;
    final GenerationConfig config;
    final TokenListener listener;
    final int holdBack; // chars kept unstreamed while they could start a stop string
    int count; // generated so far
    boolean done;
    Generation.Finish finish = Generation.Finish.LENGTH;
    int emitted; // chars of the text already streamed
    String text = "";

    Sequence(
        int index, long[] prompt, int longest, GenerationConfig config, TokenListener listener) {
      this.index = index;
      this.promptLength = prompt.length;
      this.padding = longest - prompt.length;
      this.seen = Arrays.copyOf(prompt, prompt.length + config.maxNewTokens());
      this.sampler = new Sampler(config);
      this.config = config;
      this.listener = listener;
      this.holdBack = config.stopStrings().stream().mapToInt(String::length).max().orElse(1) - 1;
    }

    void fillPrompt(long[] ids, long[] positions) {
      int row = index * (padding + promptLength);
      for (int j = 0; j < promptLength; j++) {
        ids[row + padding + j] = seen[j];
        positions[row + padding + j] = j;
      }
      for (int j = 0; j < padding; j++) {
        ids[row + j] = PAD_ID;
        positions[row + j] = 1; // HF generate's fill value; never attended to
      }
    }

    long lastToken() {
      return seen[promptLength + count - 1];
    }

    long[] generated() {
      return Arrays.copyOfRange(seen, promptLength, promptLength + count);
    }

    void accept(float[] logits, Set<Long> eos, TokenCodec codec) {
      int token = sampler.next(logits, seen, promptLength + count);
      if (eos.contains((long) token)) {
        done = true;
        finish = Generation.Finish.EOS;
        flush();
        return;
      }
      seen[promptLength + count++] = token;
      String delta = "";
      if (codec != null) {
        text = codec.decode(generated());
        int stop = stopIndex();
        if (stop >= 0) {
          text = text.substring(0, stop);
          done = true;
          finish = Generation.Finish.STOP_STRING;
        }
        delta = pending(done);
      }
      listener.onToken(index, token, delta);
      if (!done && count == config.maxNewTokens()) {
        done = true;
        flush();
      }
    }

    /** Earliest occurrence of any stop string in the text, or -1. */
    private int stopIndex() {
      int best = -1;
      for (String stop : config.stopStrings()) {
        int at = text.indexOf(stop);
        if (at >= 0 && (best < 0 || at < best)) {
          best = at;
        }
      }
      return best;
    }

    /** Text ready to stream: all of it at the end, else minus an open char or stop prefix. */
    private String pending(boolean last) {
      int end = text.length();
      if (!last) {
        end -= holdBack;
        if (end > 0 && text.charAt(end - 1) == '\uFFFD') {
          end--; // an unfinished multi-byte character decodes as U+FFFD for now
        }
      }
      if (end <= emitted) {
        return "";
      }
      String delta = text.substring(emitted, end);
      emitted = end;
      return delta;
    }

    /** Streams what was held back, as a final empty-token call, once the row ends. */
    private void flush() {
      String rest = pending(true);
      if (!rest.isEmpty()) {
        listener.onToken(index, -1, rest);
      }
    }

    Generation finish(TokenCodec codec) {
      return new Generation(promptLength, generated(), codec == null ? null : text, finish);
    }
  }
}
