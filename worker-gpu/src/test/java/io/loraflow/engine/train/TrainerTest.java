package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.lora.BaseFormat;
import io.loraflow.engine.lora.LoraLinear;
import io.loraflow.engine.lora.LoraLinearFactory;
import io.loraflow.engine.lora.PeftAdapter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {

  static final int VOCAB = 40;
  static final int HIDDEN = 16;

  /** A model + its LoRA modules, closed together. */
  record Run(NDManager manager, ToyCausalLM model, LoraLinearFactory factory)
      implements AutoCloseable {
    Map<String, LoraLinear> lora() {
      return factory.loraModules();
    }

    List<String> linears() {
      return List.copyOf(model.linears().keySet());
    }

    @Override
    public void close() {
      model.close();
      manager.close();
    }
  }

  static Run build(TrainConfig config, BaseFormat base) {
    NDManager manager = NDManager.newBaseManager();
    DataType dtype =
        config.precision() == TrainConfig.Precision.FP16 ? DataType.FLOAT16 : DataType.FLOAT32;
    LoraLinearFactory factory =
        new LoraLinearFactory(
            config.lora(config.resolvedTargets(io.loraflow.engine.model.ModelConfig.Family.LLAMA)),
            base,
            dtype,
            manager,
            config.seed());
    ToyCausalLM model = new ToyCausalLM(VOCAB, HIDDEN, 2, dtype, factory, manager, 7);
    factory.requireAllTargetsMatched();
    return new Run(manager, model, factory);
  }

  /** "Prompt" tokens then an "answer" that is a fixed function of the prompt, ending in EOS. */
  static List<Example> data(int n, long seed) {
    Random rng = new Random(seed);
    List<Example> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int promptLen = 3 + rng.nextInt(4);
      int answerLen = 3 + rng.nextInt(3);
      long[] ids = new long[promptLen + answerLen + 1];
      long[] labels = new long[ids.length];
      for (int t = 0; t < promptLen; t++) {
        ids[t] = 1 + rng.nextInt(VOCAB - 2);
        labels[t] = Example.IGNORE;
      }
      for (int t = promptLen; t < ids.length - 1; t++) {
        ids[t] = (ids[t - promptLen] * 3 + 1) % (VOCAB - 2) + 1;
        labels[t] = ids[t];
      }
      ids[ids.length - 1] = VOCAB - 1; // EOS, kept in the labels
      labels[ids.length - 1] = VOCAB - 1;
      out.add(new Example(ids, labels));
    }
    return out;
  }

  static TrainConfig.Builder small() {
    TrainConfig.Builder b = TrainConfig.defaults().toBuilder();
    b.loraR = 4;
    b.loraAlpha = 8;
    b.precision = TrainConfig.Precision.FP32;
    b.maxSeqLen = 32;
    b.checkpointEvery = 0;
    b.logEvery = 1;
    return b;
  }

  @Test
  void chunkedLossGivesTheSameLossAndGradients(@TempDir Path tmp) throws Exception {
    // the head's loss in chunks of 3 positions (several chunks per micro-batch) against one chunk,
    // with and without checkpointing: same mean loss, same LoRA gradients up to float32 rounding
    for (boolean checkpointing : new boolean[] {true, false}) {
      TrainConfig.Builder b = small();
      b.loraDropout = 0;
      b.gradientCheckpointing = checkpointing;
      TrainConfig config = b.build();
      List<Example> batch = data(2, 5);
      Map<String, float[]> whole;
      Map<String, float[]> chunked;
      try (Run run = build(config, BaseFormat.NF4);
          Trainer trainer =
              new Trainer(run.model(), run.lora(), run.linears(), config, batch, tmp, "toy")) {
        for (LoraLinear m : run.lora().values()) {
          m.loraB().set(new float[(int) m.loraB().size()]); // zeros, then a fixed pattern
          float[] v = new float[(int) m.loraB().size()];
          for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(i + 1) * 0.2f;
          }
          m.loraB().set(v);
        }
        whole = trainer.gradientsOf(batch);
        trainer.setHeadChunkRows(3);
        chunked = trainer.gradientsOf(batch);
      }
      assertEquals(whole.keySet(), chunked.keySet());
      for (String name : whole.keySet()) {
        float[] w = whole.get(name);
        float[] c = chunked.get(name);
        double num = 0;
        double den = 0;
        for (int i = 0; i < w.length; i++) {
          num += (w[i] - c[i]) * (double) (w[i] - c[i]);
          den += w[i] * (double) w[i];
        }
        assertTrue(den > 0, name + " has a nonzero gradient");
        assertTrue(
            Math.sqrt(num / den) < 1e-5,
            name + " checkpointing=" + checkpointing + " rel err " + Math.sqrt(num / den));
      }
    }
  }

  @Test
  void loraGradientsMatchFiniteDifferences(@TempDir Path tmp) {
    // checkpointed backward on an NF4 base, plain backward on a dense base
    for (boolean checkpointing : new boolean[] {true, false}) {
      {
        BaseFormat base = checkpointing ? BaseFormat.NF4 : BaseFormat.DENSE;
        TrainConfig.Builder b = small();
        b.loraDropout = 0;
        b.gradientCheckpointing = checkpointing;
        TrainConfig config = b.build();
        List<Example> batch = data(2, 3);
        try (Run run = build(config, base);
            Trainer trainer =
                new Trainer(run.model(), run.lora(), run.linears(), config, batch, tmp, "toy")) {
          // B starts at zero (so dL/dA = 0): give B values to test both
          Random rng = new Random(11);
          for (LoraLinear m : run.lora().values()) {
            float[] v = new float[(int) m.loraB().size()];
            for (int i = 0; i < v.length; i++) {
              v[i] = (float) rng.nextGaussian() * 0.3f;
            }
            m.loraB().set(v);
          }
          Map<String, float[]> grads = trainer.gradientsOf(batch);
          int checked = 0;
          // one coordinate of A and of B in each LoRA module of the first block (keeps it fast)
          for (LoraLinear m : run.lora().values()) {
            if (!m.name().startsWith("model.layers.0.")) {
              continue;
            }
            for (NDArray p : new NDArray[] {m.loraA(), m.loraB()}) {
              String name = m.name() + (p == m.loraA() ? ".lora_A.weight" : ".lora_B.weight");
              float[] g = grads.get(name);
              long cols = p.getShape().get(1);
              int idx = rng.nextInt(g.length);
              double fd = finiteDifference(trainer, batch, p, idx / cols, idx % cols);
              double tol = 2e-3 + 2e-2 * Math.abs(fd);
              assertEquals(
                  fd,
                  g[idx],
                  tol,
                  name + "[" + idx + "] checkpointing=" + checkpointing + " base=" + base);
              checked++;
            }
          }
          assertEquals(12, checked); // 6 modules x (A, B)
        }
      }
    }
  }

  /** Central difference of the mean token loss in one LoRA weight, eps 1e-2, float32. */
  private static double finiteDifference(
      Trainer trainer, List<Example> batch, NDArray p, long row, long col) {
    float eps = 1e-2f;
    NDIndex at = new NDIndex(row, col);
    float original = p.getFloat(row, col);
    boolean mode = Autograd.gradMode();
    Autograd.setGradMode(false);
    try {
      p.set(at, original + eps);
      double plus = trainer.evaluate(batch);
      p.set(at, original - eps);
      double minus = trainer.evaluate(batch);
      p.set(at, original);
      return (plus - minus) / (2 * eps);
    } finally {
      Autograd.setGradMode(mode);
    }
  }

  @Test
  void lossFallsOnATinyModel(@TempDir Path tmp) throws Exception {
    TrainConfig.Builder b = small();
    b.epochs = 20;
    b.learningRate = 3e-2;
    b.maxGradNorm = 1.0;
    b.batchSize = 4;
    TrainConfig config = b.build();
    List<Example> train = data(8, 5);
    try (Run run = build(config, BaseFormat.NF4);
        Trainer trainer =
            new Trainer(run.model(), run.lora(), run.linears(), config, train, tmp, "toy")) {
      double before = trainer.evaluate(train);
      TrainOutcome result = trainer.run();
      double after = trainer.evaluate(train);
      assertTrue(result.finished());
      assertEquals(result.totalSteps(), result.history().totals().recorded());
      assertEquals(
          Math.min(result.totalSteps(), StepHistory.RECENT), result.history().recent().size());
      assertTrue(after < 0.5 * before, "loss " + before + " -> " + after);
    }
  }

  @Test
  void resumeContinuesExactly(@TempDir Path tmp) throws Exception {
    TrainConfig.Builder b = small();
    b.epochs = 2;
    b.batchSize = 2;
    b.gradAccumulation = 2;
    b.learningRate = 5e-3;
    b.loraDropout = 0.1; // exercises the seeded dropout masks
    TrainConfig config = b.build();
    List<Example> train = data(12, 9); // 6 micro-batches per epoch -> 6 optimizer steps in all
    Path full = tmp.resolve("full");
    List<StepMetrics> fullHistory;
    try (Run run = build(config, BaseFormat.NF4);
        Trainer trainer =
            new Trainer(run.model(), run.lora(), run.linears(), config, train, full, "toy")) {
      fullHistory = trainer.run().history().recent();
      trainer.saveAdapter(tmp.resolve("full-adapter"));
    }
    assertEquals(6, fullHistory.size());
    // first run: stop after 2 steps (checkpoint + stop request from a progress listener)
    Path parts = tmp.resolve("parts");
    try (Run run = build(config, BaseFormat.NF4);
        Trainer trainer =
            new Trainer(run.model(), run.lora(), run.linears(), config, train, parts, "toy")) {
      trainer.addProgressListener(
          m -> {
            if (m.step() == 2) {
              trainer.requestStop();
            }
          });
      TrainOutcome r = trainer.run();
      assertTrue(r.stopped());
      assertEquals(2, r.steps());
    }
    Path ckpt = Checkpoint.newest(parts).orElseThrow();
    assertEquals("step-2", ckpt.getFileName().toString());
    List<StepMetrics> resumedHistory;
    try (Run run = build(Checkpoint.readConfig(ckpt), BaseFormat.NF4);
        Trainer trainer =
            Trainer.resume(ckpt, run.model(), run.lora(), run.linears(), train, parts)) {
      resumedHistory = trainer.run().history().recent();
      trainer.saveAdapter(tmp.resolve("resumed-adapter"));
    }
    double[] expected = fullHistory.stream().mapToDouble(StepMetrics::loss).toArray();
    double[] actual = resumedHistory.stream().mapToDouble(StepMetrics::loss).toArray();
    assertArrayEquals(expected, actual, 0.0);
    assertArrayEquals(
        Files.readAllBytes(tmp.resolve("full-adapter").resolve(PeftAdapter.WEIGHTS_FILE)),
        Files.readAllBytes(tmp.resolve("resumed-adapter").resolve(PeftAdapter.WEIGHTS_FILE)));
  }

  @Test
  void fp16OverflowSkipsTheStepAndHalvesTheScale(@TempDir Path tmp) throws Exception {
    TrainConfig.Builder b = small();
    b.precision = TrainConfig.Precision.FP16;
    b.batchSize = 4;
    b.initialLossScale = 1e9; // fp16 gradients overflow at this scale
    b.warmupRatio = 0;
    TrainConfig config = b.build();
    List<Example> train = data(8, 2); // two steps
    try (Run run = build(config, BaseFormat.NF4);
        Trainer trainer =
            new Trainer(run.model(), run.lora(), run.linears(), config, train, tmp, "toy")) {
      LoraLinear first = run.lora().values().iterator().next();
      float[] before = first.loraA().toFloatArray();
      List<StepMetrics> h = new ArrayList<>();
      trainer.addProgressListener(h::add);
      trainer.run();
      assertTrue(h.get(0).skipped(), "first step must overflow");
      assertEquals(1e9, h.get(0).lossScale());
      assertEquals(5e8, h.get(1).lossScale());
      assertTrue(Double.isFinite(h.get(0).loss()) && Double.isFinite(h.get(1).loss()));
      if (h.get(1).skipped()) {
        assertArrayEquals(before, first.loraA().toFloatArray()); // nothing was applied
      }
    }
  }

  @Test
  void interruptStopsWithInterruptedException(@TempDir Path tmp) {
    TrainConfig config = small().build();
    try (Run run = build(config, BaseFormat.DENSE);
        Trainer trainer =
            new Trainer(run.model(), run.lora(), run.linears(), config, data(4, 1), tmp, "toy")) {
      trainer.addProgressListener(m -> Thread.currentThread().interrupt());
      org.junit.jupiter.api.Assertions.assertThrows(InterruptedException.class, trainer::run);
      assertEquals(1, trainer.step());
      assertTrue(Checkpoint.newest(tmp).isEmpty(), "an interrupt writes no checkpoint");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      Thread.interrupted(); // clear, whatever happened
    }
  }
}
