package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.engine.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainConfigTest {

  static final ModelConfig SMOL =
      new ModelConfig(
          ModelConfig.Family.LLAMA,
          49152,
          576,
          1536,
          30,
          9,
          3,
          64,
          8192,
          1e-5,
          100000,
          null,
          true,
          false,
          false,
          false,
          null,
          0,
          "silu",
          1,
          List.of(2));
  static final List<String> SMOL_LINEARS =
      List.of(
          "model.layers.0.self_attn.q_proj",
          "model.layers.0.self_attn.k_proj",
          "model.layers.0.self_attn.v_proj",
          "model.layers.0.self_attn.o_proj",
          "model.layers.0.mlp.gate_proj",
          "model.layers.0.mlp.up_proj",
          "model.layers.0.mlp.down_proj");

  @Test
  void defaultsAreTheReferenceRun() {
    TrainConfig c = TrainConfig.defaults();
    assertEquals(1, c.epochs());
    assertEquals(1, c.batchSize());
    assertEquals(2e-4, c.learningRate());
    assertEquals(TrainConfig.Schedule.COSINE, c.schedule());
    assertEquals(0.05, c.warmupRatio());
    assertEquals(TrainConfig.OptimizerKind.ADAMW_8BIT, c.optimizer());
    assertTrue(c.gradientCheckpointing());
    assertEquals(16, c.loraR());
    assertEquals(32.0, c.loraAlpha());
    assertEquals(0.05, c.loraDropout());
    assertEquals(List.of("query_key_value"), c.resolvedTargets(ModelConfig.Family.FALCON));
    assertEquals(List.of("all-linear"), c.resolvedTargets(ModelConfig.Family.LLAMA));
  }

  @Test
  void theRunSpecIsTheOnePlaceOfTheDefaults() {
    io.loraflow.workflows.TrainingSpec spec = io.loraflow.workflows.TrainingSpec.defaults();
    TrainConfig c = TrainConfig.defaults();
    assertEquals(spec.epochs().intValue(), c.epochs());
    assertEquals(spec.learningRate().doubleValue(), c.learningRate());
    assertEquals(spec.loraR().intValue(), c.loraR());
    assertEquals(spec.loraAlpha().doubleValue(), c.loraAlpha());
    assertEquals(spec.loraDropout().doubleValue(), c.loraDropout());
    assertEquals(spec.maxSeqLen().intValue(), c.maxSeqLen());
    assertEquals(spec.batchSize().intValue(), c.batchSize());
    assertEquals(spec.gradAccum().intValue(), c.gradAccumulation());
    assertEquals(spec.seed().longValue(), c.seed());
    assertEquals(spec.checkpointEverySteps().intValue(), c.checkpointEvery());
    assertEquals(spec.warmupRatio().doubleValue(), c.warmupRatio());
    assertEquals(TrainConfig.Precision.FP16, c.precision()); // "auto" on a GPU
    assertEquals(0.3, c.maxGradNorm()); // an engine-only knob
  }

  @Test
  void aRunSpecMapsOntoTheEngineConfig() {
    var spec =
        new io.loraflow.workflows.TrainingSpec(
            3,
            1e-3,
            8,
            16,
            0.1,
            List.of("q_proj", "v_proj"),
            256,
            2,
            4,
            7L,
            "auto",
            5,
            "adamw",
            "linear",
            0.1);
    TrainConfig cpu = TrainConfig.of(spec, false);
    assertEquals(3, cpu.epochs());
    assertEquals(1e-3, cpu.learningRate());
    assertEquals(8, cpu.loraR());
    assertEquals(16.0, cpu.loraAlpha());
    assertEquals(0.1, cpu.loraDropout());
    assertEquals(List.of("q_proj", "v_proj"), cpu.targetModules());
    assertEquals(256, cpu.maxSeqLen());
    assertEquals(2, cpu.batchSize());
    assertEquals(4, cpu.gradAccumulation());
    assertEquals(7, cpu.seed());
    assertEquals(5, cpu.checkpointEvery());
    assertEquals(TrainConfig.OptimizerKind.ADAMW, cpu.optimizer());
    assertEquals(TrainConfig.Schedule.LINEAR, cpu.schedule());
    assertEquals(0.1, cpu.warmupRatio());
    assertEquals(TrainConfig.Precision.FP32, cpu.precision());
    assertTrue(!cpu.gradientCheckpointing(), "no recompute on a CPU");
    TrainConfig gpu = TrainConfig.of(spec, true);
    assertEquals(TrainConfig.Precision.FP16, gpu.precision());
    assertTrue(gpu.gradientCheckpointing());
    assertEquals(
        TrainConfig.Precision.FP32,
        TrainConfig.of(
                new io.loraflow.workflows.TrainingSpec(
                    null, null, null, null, null, null, null, null, null, null, "fp32", null, null,
                    null, null),
                true)
            .precision());
    String m =
        error(
            () ->
                TrainConfig.of(
                    new io.loraflow.workflows.TrainingSpec(
                        0, null, null, null, null, null, null, null, null, null, null, null, "sgd",
                        null, null),
                    true));
    assertTrue(m.contains("training.epochs") && m.contains("got 0") && m.contains("sgd"), m);
  }

  private static String error(Runnable r) {
    return assertThrows(IllegalArgumentException.class, r::run).getMessage();
  }

  @Test
  void badInputIsRejectedBeforeAnyModelIsLoaded(@TempDir Path tmp) throws Exception {
    var b = TrainConfig.defaults().toBuilder();
    b.loraR = 0;
    String m = error(b::build);
    assertTrue(m.contains("rank") && m.contains("got 0") && m.contains("--r"), m);

    b = TrainConfig.defaults().toBuilder();
    b.learningRate = -1e-4;
    m = error(b::build);
    assertTrue(m.contains("learning rate") && m.contains("-1.0E-4") && m.contains("--lr"), m);

    b = TrainConfig.defaults().toBuilder();
    b.targetModules = List.of("query_key_value");
    TrainConfig falconTargets = b.build();
    m = error(() -> falconTargets.validateAgainst(SMOL, SMOL_LINEARS, "smol.gguf"));
    assertTrue(m.contains("query_key_value") && m.contains("q_proj") && m.contains("smol.gguf"), m);

    b = TrainConfig.defaults().toBuilder();
    b.maxSeqLen = 10000;
    TrainConfig tooLong = b.build();
    m = error(() -> tooLong.validateAgainst(SMOL, SMOL_LINEARS, "smol.gguf"));
    assertTrue(m.contains("10000") && m.contains("8192") && m.contains("--max-seq-len"), m);

    Path empty = Files.writeString(tmp.resolve("empty.jsonl"), "\n");
    m =
        assertThrows(IllegalArgumentException.class, () -> TokenizedDataset.read(empty, 512))
            .getMessage();
    assertTrue(m.contains("empty.jsonl") && m.contains("no usable example"), m);

    Path promptsOnly =
        Files.writeString(
            tmp.resolve("masked.jsonl"), "{\"input_ids\":[1,2,3],\"labels\":[-100,-100,-100]}\n");
    m =
        assertThrows(IllegalArgumentException.class, () -> TokenizedDataset.read(promptsOnly, 512))
            .getMessage();
    assertTrue(m.contains("1 without answer tokens"), m);

    TrainConfig.defaults().validateAgainst(SMOL, SMOL_LINEARS, "smol.gguf"); // fine as is
  }

  @Test
  void schedulesMatchTransformers() {
    // values printed by transformers 5.24 get_{cosine,linear}_schedule_with_warmup(opt, 5, 100)
    // with lr 2e-4, read from optimizer.param_groups before each step
    long[] steps = {0, 3, 5, 50, 99};
    double[] cosine = {0.0, 0.00012, 0.0002, 0.00010825793454723325, 5.467426590739511e-08};
    double[] linear = {0.0, 0.00012, 0.0002, 0.00010526315789473685, 2.105263157894737e-06};
    LrSchedule cos = LrSchedule.of(TrainConfig.defaults(), 100);
    var b = TrainConfig.defaults().toBuilder();
    b.schedule = TrainConfig.Schedule.LINEAR;
    LrSchedule lin = LrSchedule.of(b.build(), 100);
    for (int i = 0; i < steps.length; i++) {
      assertEquals(cosine[i], cos.lr(steps[i]), 1e-15);
      assertEquals(linear[i], lin.lr(steps[i]), 1e-15);
    }
  }
}
