package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.lora.PeftAdapter;
import io.loraflow.engine.session.ModelSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Training is a function of its inputs, not of when the JVM collects garbage.
 *
 * <p>On the CPU, DJL backs an array made from host data ({@code manager.create(float[])}, and the
 * scalar of every {@code x.mul(2.0)}) by a direct ByteBuffer that only its Java object keeps alive.
 * Autograd keeps such a tensor for the backward pass (MulBackward saves the scalar) after the Java
 * object is closed; once a GC frees the buffer, backward reads freed memory: NaN gradients, skipped
 * steps, runs that differ from their resume. A thread that collects every 2 ms makes that certain
 * instead of rare, so each model family is trained with and without it and the two runs must agree
 * bit for bit, with no step skipped.
 */
class GcPressureTest {

  private static final Path MODELS = Path.of("src/test/resources/models");

  /** A model family, a Llama with the tanh GELU (gelu_pytorch_tanh), and Falcon's GELU. */
  @ParameterizedTest
  @ValueSource(
      strings = {"llama_mha", "llama_mha:gelu_pytorch_tanh", "falcon_new_arch", "qwen2_bias"})
  void trainingUnderGcPressureEqualsTrainingWithout(String fixture, @TempDir Path tmp)
      throws Exception {
    Path model = prepare(fixture, tmp.resolve("model"));
    Outcome quiet = train(model, tmp.resolve("quiet"), false);
    Outcome pressed = train(model, tmp.resolve("pressed"), true);
    assertFalse(quiet.skipped(), fixture + ": a step was skipped without GC pressure");
    assertFalse(pressed.skipped(), fixture + ": a step was skipped under GC pressure");
    assertArrayEquals(quiet.losses(), pressed.losses(), 0.0, fixture + ": losses");
    assertArrayEquals(quiet.adapter(), pressed.adapter(), fixture + ": adapter bytes");
  }

  /** The toy model of the resume tests, on the NF4 base: they compare runs bit for bit. */
  @org.junit.jupiter.api.Test
  void theToyModelTrainsTheSameUnderGcPressure(@TempDir Path tmp) throws Exception {
    TrainConfig.Builder b = TrainerTest.small();
    b.epochs = 2;
    b.batchSize = 2;
    b.learningRate = 5e-3;
    b.loraDropout = 0.1;
    TrainConfig config = b.build();
    List<Example> data = TrainerTest.data(8, 9);
    double[][] losses = new double[2][];
    for (int i = 0; i < 2; i++) {
      Thread collector = i == 1 ? startCollector() : null;
      try (TrainerTest.Run run = TrainerTest.build(config, io.loraflow.engine.lora.BaseFormat.NF4);
          Trainer trainer =
              new Trainer(
                  run.model(),
                  run.lora(),
                  run.linears(),
                  config,
                  data,
                  tmp.resolve("r" + i),
                  "toy")) {
        List<StepMetrics> steps = trainer.run().history().recent();
        assertFalse(steps.stream().anyMatch(StepMetrics::skipped), "run " + i + " skipped a step");
        losses[i] = steps.stream().mapToDouble(StepMetrics::loss).toArray();
      } finally {
        stop(collector);
      }
    }
    assertArrayEquals(losses[0], losses[1], 0.0);
  }

  /** A daemon thread that asks for a full GC every 2 ms. */
  private static Thread startCollector() {
    Thread collector =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                System.gc();
                try {
                  Thread.sleep(2);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "gc-pressure");
    collector.setDaemon(true);
    collector.start();
    return collector;
  }

  private static void stop(Thread collector) throws InterruptedException {
    if (collector != null) {
      collector.interrupt();
      collector.join();
    }
  }

  private record Outcome(double[] losses, boolean skipped, byte[] adapter) {}

  private static Outcome train(Path model, Path dir, boolean gcPressure) throws Exception {
    TrainConfig.Builder b = TrainerTest.small();
    b.epochs = 1;
    b.batchSize = 2;
    b.learningRate = 1e-2;
    b.loraDropout = 0.1;
    b.gradientCheckpointing = true;
    b.targetModules = List.of(); // the family's default targets
    TrainConfig config = b.build();
    Thread collector = gcPressure ? startCollector() : null;
    try (ModelFiles files = ModelFiles.open(model);
        ModelSession s = ModelSession.forTraining(files, config, Device.cpu(), "fixture");
        Trainer trainer =
            new Trainer(
                s.model(),
                s.loraModules(),
                s.linears(),
                config,
                examples(files.config().vocabSize(), 8),
                dir.resolve("ckpt"),
                "fixture")) {
      List<StepMetrics> steps = trainer.run().history().recent();
      trainer.saveAdapter(dir.resolve("adapter"));
      assertTrue(steps.size() >= 4, "steps: " + steps.size());
      return new Outcome(
          steps.stream().mapToDouble(StepMetrics::loss).toArray(),
          steps.stream().anyMatch(StepMetrics::skipped),
          Files.readAllBytes(dir.resolve("adapter").resolve(PeftAdapter.WEIGHTS_FILE)));
    } finally {
      stop(collector);
    }
  }

  /** The fixture's directory, or a copy whose config names another {@code hidden_act}. */
  private static Path prepare(String fixture, Path copy) throws IOException {
    String[] parts = fixture.split(":");
    Path dir = MODELS.resolve(parts[0]);
    if (parts.length == 1) {
      return dir;
    }
    Files.createDirectories(copy);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
    Path config = copy.resolve("config.json");
    String json = Files.readString(config);
    String changed =
        json.replaceFirst("\"hidden_act\": *\"[a-z_]+\"", "\"hidden_act\": \"" + parts[1] + "\"");
    assertTrue(!changed.equals(json), "hidden_act not found in " + config);
    Files.writeString(config, changed);
    return copy;
  }

  /** n prompt/answer examples over token ids 3..vocab-1, answers a function of the prompt. */
  private static List<Example> examples(int vocab, int n) {
    Random rng = new Random(11);
    List<Example> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int prompt = 4 + rng.nextInt(4);
      int answer = 3 + rng.nextInt(3);
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
