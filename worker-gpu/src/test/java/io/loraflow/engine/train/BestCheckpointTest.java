package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.engine.lora.BaseFormat;
import io.loraflow.engine.lora.PeftAdapter;
import io.loraflow.engine.train.TrainerTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Evaluation during training, early stopping and the best adapter, on the toy model. */
class BestCheckpointTest {

  /** 12 examples, batch 2: 6 steps per epoch. */
  private static TrainConfig config(int epochs, EvalPolicy policy, int checkpointEvery) {
    TrainConfig.Builder b = TrainerTest.small();
    b.epochs = epochs;
    b.batchSize = 2;
    b.learningRate = 3e-2;
    b.maxGradNorm = 1.0;
    b.loraDropout = 0.1;
    b.checkpointEvery = checkpointEvery;
    b.evalPolicy = policy;
    return b.build();
  }

  @Test
  void earlyStoppingStopsAtTheRightStepOnAScriptedCurve(@TempDir Path tmp) throws Exception {
    // evaluations every 2 steps; patience 2, min delta 0.05
    // step:  2    4    6    8     10    12   ...
    // loss:  3.0  2.0  1.5  1.46  1.6   (stop here: 2 evaluations without a > 0.05 improvement)
    Map<Long, Double> curve = Map.of(2L, 3.0, 4L, 2.0, 6L, 1.5, 8L, 1.46, 10L, 1.6, 12L, 0.1);
    TrainConfig config = config(3, new EvalPolicy(2, false, 2, 0.05), 0);
    List<Example> train = TrainerTest.data(12, 4);
    try (Run run = TrainerTest.build(config, BaseFormat.DENSE);
        Trainer trainer =
            new Trainer(run.model(), run.lora(), run.linears(), config, train, tmp, "toy")) {
      Map<Long, byte[]> adapters = new java.util.HashMap<>();
      trainer.setHeldOutLoss(step -> new double[] {curve.get(step), 100});
      List<EvalMetrics> seen = new ArrayList<>();
      trainer.addEvalListener(seen::add);
      trainer.addProgressListener(
          m -> {
            try {
              Path d = tmp.resolve("at-" + m.step());
              trainer.saveAdapter(d);
              adapters.put(m.step(), Files.readAllBytes(d.resolve(PeftAdapter.WEIGHTS_FILE)));
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          });
      TrainOutcome r = trainer.run();
      assertEquals(18, r.totalSteps());
      assertEquals(10, r.steps(), "stops right after the evaluation at step 10");
      assertTrue(r.stoppedEarly());
      assertTrue(r.finished());
      assertEquals(6, r.bestStep());
      assertEquals(1.5, r.bestEvalLoss());
      assertEquals(List.of(2L, 4L, 6L, 8L, 10L), seen.stream().map(EvalMetrics::step).toList());
      assertTrue(seen.get(4).stop());
      assertEquals("step-10", r.lastCheckpoint().getFileName().toString());
      Path published = tmp.resolve("published");
      trainer.savePublishedAdapter(published);
      assertArrayEquals(
          adapters.get(6L), Files.readAllBytes(published.resolve(PeftAdapter.WEIGHTS_FILE)));
      assertFalse(Arrays.equals(adapters.get(6L), adapters.get(10L)));
    }
  }

  @Test
  void epochEndsAreEvaluated(@TempDir Path tmp) throws Exception {
    TrainConfig config = config(3, new EvalPolicy(0, true, 0, 0), 0);
    try (Run run = TrainerTest.build(config, BaseFormat.DENSE);
        Trainer trainer =
            new Trainer(
                run.model(),
                run.lora(),
                run.linears(),
                config,
                TrainerTest.data(12, 4),
                tmp,
                "toy")) {
      trainer.setHeldOut(TrainerTest.data(4, 99));
      TrainOutcome r = trainer.run();
      assertEquals(List.of(6L, 12L, 18L), r.evals().stream().map(EvalMetrics::step).toList());
      assertEquals(List.of(0, 1, 2), r.evals().stream().map(EvalMetrics::epoch).toList());
      assertTrue(r.evals().stream().allMatch(e -> Double.isFinite(e.loss()) && e.tokens() > 0));
    }
  }

  /**
   * The held-out answers follow a different rule than the training answers, so the held-out loss is
   * lowest early and rises as the model learns the training rule: the best step comes before the
   * last. A run killed after its best step (stop + a fresh machine that has only the checkpoint)
   * publishes the same adapter, best step and evaluation history as an uninterrupted run.
   */
  @Test
  void bestCheckpointSurvivesAKillBetweenTheBestAndTheLastStep(@TempDir Path tmp) throws Exception {
    TrainConfig config = config(2, new EvalPolicy(1, true, 0, 0), 2);
    List<Example> train = TrainerTest.data(12, 9);
    HeldOutLoss heldOut = step -> new double[] {step == 3 ? 1.0 : 2.0 + Math.abs(step - 6), 50};

    Path full = tmp.resolve("full");
    TrainOutcome fullResult;
    try (Run run = TrainerTest.build(config, BaseFormat.NF4);
        Trainer trainer =
            new Trainer(run.model(), run.lora(), run.linears(), config, train, full, "toy")) {
      trainer.setHeldOutLoss(heldOut);
      fullResult = trainer.run();
      trainer.savePublishedAdapter(tmp.resolve("full-adapter"));
      trainer.saveAdapter(tmp.resolve("full-last"));
    }
    long bestStep = fullResult.bestStep();
    assertEquals(3, bestStep);
    assertEquals(12, fullResult.steps());
    assertFalse(
        Arrays.equals(
            Files.readAllBytes(tmp.resolve("full-adapter").resolve(PeftAdapter.WEIGHTS_FILE)),
            Files.readAllBytes(tmp.resolve("full-last").resolve(PeftAdapter.WEIGHTS_FILE))),
        "the published adapter is the best, not the last");

    // the same run, stopped at the first checkpoint after the best step
    long killAt = (bestStep / 2 + 1) * 2;
    Path parts = tmp.resolve("parts");
    try (Run run = TrainerTest.build(config, BaseFormat.NF4);
        Trainer trainer =
            new Trainer(run.model(), run.lora(), run.linears(), config, train, parts, "toy")) {
      trainer.setHeldOutLoss(heldOut);
      trainer.addProgressListener(
          m -> {
            if (m.step() == killAt) {
              trainer.requestStop();
            }
          });
      TrainOutcome r = trainer.run();
      assertTrue(r.stopped());
    }
    Path ckpt = Checkpoint.newest(parts).orElseThrow();
    assertEquals("step-" + killAt, ckpt.getFileName().toString());
    // a fresh machine: only the checkpoint survives, in another directory
    Path machine2 = tmp.resolve("machine2");
    Path copy = machine2.resolve("resume").resolve(ckpt.getFileName());
    copyTree(ckpt, copy);
    deleteTree(parts);
    try (Run run = TrainerTest.build(Checkpoint.readConfig(copy), BaseFormat.NF4);
        Trainer trainer =
            Trainer.resume(
                copy, run.model(), run.lora(), run.linears(), train, machine2.resolve("ckpt"))) {
      trainer.setHeldOutLoss(heldOut);
      TrainOutcome r = trainer.run();
      assertEquals(bestStep, r.bestStep());
      assertEquals(fullResult.bestEvalLoss(), r.bestEvalLoss());
      assertEquals(
          fullResult.evals().stream().map(EvalMetrics::loss).toList(),
          r.evals().stream().map(EvalMetrics::loss).toList());
      trainer.savePublishedAdapter(tmp.resolve("resumed-adapter"));
    }
    assertArrayEquals(
        Files.readAllBytes(tmp.resolve("full-adapter").resolve(PeftAdapter.WEIGHTS_FILE)),
        Files.readAllBytes(tmp.resolve("resumed-adapter").resolve(PeftAdapter.WEIGHTS_FILE)));
  }

  @Test
  void withoutHeldOutDataTheLastWeightsArePublished(@TempDir Path tmp) throws Exception {
    TrainConfig config = config(1, new EvalPolicy(1, true, 2, 0), 0);
    try (Run run = TrainerTest.build(config, BaseFormat.DENSE);
        Trainer trainer =
            new Trainer(
                run.model(),
                run.lora(),
                run.linears(),
                config,
                TrainerTest.data(12, 4),
                tmp,
                "toy")) {
      trainer.setHeldOut(List.of());
      TrainOutcome r = trainer.run();
      assertEquals(6, r.steps());
      assertEquals(-1, r.bestStep());
      assertTrue(r.evals().isEmpty());
      trainer.savePublishedAdapter(tmp.resolve("a"));
      trainer.saveAdapter(tmp.resolve("b"));
      assertArrayEquals(
          Files.readAllBytes(tmp.resolve("a").resolve(PeftAdapter.WEIGHTS_FILE)),
          Files.readAllBytes(tmp.resolve("b").resolve(PeftAdapter.WEIGHTS_FILE)));
      assertNotEquals(null, r.lastCheckpoint());
    }
  }

  static void copyTree(Path from, Path to) throws java.io.IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }

  static void deleteTree(Path p) throws java.io.IOException {
    try (Stream<Path> walk = Files.walk(p)) {
      for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
