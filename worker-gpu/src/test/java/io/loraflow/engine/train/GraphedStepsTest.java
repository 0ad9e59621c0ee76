package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.lora.LoraLinear;
import io.loraflow.engine.session.ModelSession;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CPU twin of the CUDA-graph micro-step: {@link GraphedSteps}' bucketed formulation (rows
 * padded to a multiple of 16, no key-padding mask, loss over every position with 0/1 weights,
 * device scalars for the count and the backward seed) must train like the plain micro-step. On a
 * GPU the graphs replay exactly this formulation (FastPathCheck compares replay and eager there).
 */
class GraphedStepsTest {

  private static final Path MODELS = Path.of("src/test/resources/models");

  @Test
  void inputsPadOnTheRightAndWeighExactlyTheSupervisedPositions() {
    // prompt 2 tokens, answer 3: positions 1..3 predict the answer tokens (CausalLmLoss's rule)
    Example a = new Example(new long[] {5, 6, 7, 8, 9}, new long[] {-100, -100, 7, 8, 9});
    Example b = new Example(new long[] {4, 3, 2}, new long[] {-100, 3, 2});
    GraphedSteps.Inputs in = GraphedSteps.Inputs.of(List.of(a, b), GraphedSteps.bucketLength(5));
    assertEquals(16, in.length());
    assertEquals(2, in.rows());
    long[] ids = new long[32];
    System.arraycopy(new long[] {5, 6, 7, 8, 9}, 0, ids, 0, 5);
    System.arraycopy(new long[] {4, 3, 2}, 0, ids, 16, 3);
    assertArrayEquals(ids, in.ids());
    float[] weights = new float[32];
    long[] labels = new long[32];
    weights[1] = weights[2] = weights[3] = 1;
    labels[1] = 7;
    labels[2] = 8;
    labels[3] = 9;
    weights[16] = weights[17] = 1;
    labels[16] = 3;
    labels[17] = 2;
    assertArrayEquals(weights, in.weights());
    assertArrayEquals(labels, in.labels());
    long[][] padded = {
      {-100, -100, 7, 8, 9, -100, -100, -100, -100, -100, -100, -100, -100, -100, -100, -100},
      {-100, 3, 2, -100, -100, -100, -100, -100, -100, -100, -100, -100, -100, -100, -100, -100}
    };
    assertEquals(CausalLmLoss.targets(padded, 16).count(), in.supervised());
  }

  @Test
  void bucketLengthsAreMultiplesOfTheQuantumAndRejectLongerExamples() {
    assertEquals(16, GraphedSteps.bucketLength(1));
    assertEquals(16, GraphedSteps.bucketLength(16));
    assertEquals(32, GraphedSteps.bucketLength(17));
    assertEquals(96, GraphedSteps.bucketLength(92));
    // never padded past a limit (dynamic rotary's max_position_embeddings) the batch stays under
    assertEquals(95, GraphedSteps.bucketLength(90, 95));
    assertEquals(96, GraphedSteps.bucketLength(90, 200));
    assertEquals(130, GraphedSteps.bucketLength(130, 100));
    assertEquals(100, GraphedSteps.bucketLength(100, 100));
    Example e = new Example(new long[20], new long[20]);
    assertThrows(IllegalArgumentException.class, () -> GraphedSteps.Inputs.of(List.of(e), 16));
  }

  /** Llama (GQA), Qwen2 (q/k/v biases), Falcon (new decoder architecture). */
  @ParameterizedTest
  @ValueSource(strings = {"llama_mha", "qwen2_bias", "falcon_new_arch"})
  void bucketedStepsGiveThePlainGradientsAndLosses(String fixture, @TempDir Path tmp)
      throws Exception {
    TrainConfig config = config();
    List<Example> data;
    Map<String, float[]> plainGrads;
    Map<String, float[]> bucketedGrads;
    double[] plainLosses;
    double[] bucketedLosses;
    try (ModelFiles files = ModelFiles.open(MODELS.resolve(fixture))) {
      data = examples(files.config().vocabSize(), 6);
      List<Example> batch = data.subList(0, 2); // lengths differ: the shorter row is padded
      assertTrue(batch.get(0).length() != batch.get(1).length());
      try (ModelSession s = ModelSession.forTraining(files, config, Device.cpu(), "fixture");
          Trainer trainer = trainer(s, config, data, tmp.resolve("a"))) {
        for (LoraLinear m : s.loraModules().values()) {
          float[] v = new float[(int) m.loraB().size()]; // B = 0 would make every dL/dA zero
          for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(i + 1) * 0.2f;
          }
          m.loraB().set(v);
        }
        plainGrads = trainer.gradientsOf(batch);
        trainer.useBucketedSteps();
        bucketedGrads = trainer.gradientsOf(batch);
      }
      plainLosses = losses(files, config, data, tmp.resolve("b"), false);
      bucketedLosses = losses(files, config, data, tmp.resolve("c"), true);
    }
    assertEquals(plainGrads.keySet(), bucketedGrads.keySet());
    for (String name : plainGrads.keySet()) {
      double err = relativeError(plainGrads.get(name), bucketedGrads.get(name));
      assertTrue(err < 1e-5, fixture + " " + name + " gradient rel err " + err);
    }
    assertEquals(plainLosses.length, bucketedLosses.length);
    for (int i = 0; i < plainLosses.length; i++) {
      assertFalse(Double.isNaN(bucketedLosses[i]), "step " + i + " loss NaN");
      assertEquals(
          plainLosses[i],
          bucketedLosses[i],
          1e-4 * Math.abs(plainLosses[i]),
          fixture + " step " + (i + 1) + " loss");
    }
  }

  private static double[] losses(
      ModelFiles files, TrainConfig config, List<Example> data, Path dir, boolean bucketed)
      throws Exception {
    try (ModelSession s = ModelSession.forTraining(files, config, Device.cpu(), "fixture");
        Trainer trainer = trainer(s, config, data, dir)) {
      if (bucketed) {
        trainer.useBucketedSteps();
      }
      List<StepMetrics> steps = trainer.run().history().recent();
      assertTrue(steps.size() >= 3, "steps: " + steps.size());
      assertTrue(steps.stream().noneMatch(StepMetrics::skipped), "a step was skipped");
      return steps.stream().mapToDouble(StepMetrics::loss).toArray();
    }
  }

  private static Trainer trainer(ModelSession s, TrainConfig config, List<Example> data, Path dir) {
    return new Trainer(
        s.model(), s.loraModules(), s.linears(), config, data, dir.resolve("ckpt"), "fixture");
  }

  private static TrainConfig config() {
    TrainConfig.Builder b = TrainerTest.small();
    b.epochs = 1;
    b.batchSize = 2;
    b.learningRate = 1e-2;
    b.loraDropout = 0; // masks are seeded per layer in the plain step, per micro-step here
    b.gradientCheckpointing = false;
    b.targetModules = List.of(); // the family's default targets
    return b.build();
  }

  private static double relativeError(float[] want, float[] got) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < want.length; i++) {
      num += (want[i] - got[i]) * (double) (want[i] - got[i]);
      den += want[i] * (double) want[i];
    }
    assertTrue(den > 0, "a zero gradient proves nothing");
    return Math.sqrt(num / den);
  }

  /** n prompt/answer examples of different lengths over token ids 3..vocab-1. */
  private static List<Example> examples(int vocab, int n) {
    Random rng = new Random(5);
    List<Example> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int prompt = 4 + i % 3;
      int answer = 3 + rng.nextInt(4);
      long[] ids = new long[prompt + answer];
      long[] labels = new long[ids.length];
      for (int t = 0; t < ids.length; t++) {
        ids[t] = t < prompt ? 3 + rng.nextInt(vocab - 3) : 3 + (ids[t - prompt] * 7) % (vocab - 3);
        labels[t] = t < prompt ? Example.IGNORE : ids[t];
      }
      out.add(new Example(ids, labels));
    }
    return out;
  }
}
