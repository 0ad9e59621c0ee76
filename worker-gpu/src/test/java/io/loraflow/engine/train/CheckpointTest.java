package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.lora.PeftAdapter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checkpoint's JSON files (Jackson) and its manifest check, without a model. */
class CheckpointTest {

  private static final StepMetrics FINITE =
      new StepMetrics(1, 4, 0, 2.5, 1e-4, 0.75, 65536, false, 120.0, 1 << 20);
  // a skipped fp16 step: the gradient overflowed
  private static final StepMetrics OVERFLOW =
      new StepMetrics(
          2, 4, 0, Double.NaN, 1e-4, Double.POSITIVE_INFINITY, 32768, true, 0.0, 1 << 20);

  private static final StepHistory.Totals TOTALS =
      new StepHistory.Totals(
          2,
          1,
          120.0,
          2,
          1 << 20,
          1,
          List.of(new StepHistory.LossPoint(1, 2.5), new StepHistory.LossPoint(2, Double.NaN)));

  private static Path write(Path dir, NDManager m) throws Exception {
    Checkpoint.prepare(dir);
    // the PEFT files must exist before finish(); their content does not matter here
    Files.writeString(dir.resolve(PeftAdapter.CONFIG_FILE), "{}");
    Files.writeString(dir.resolve(PeftAdapter.WEIGHTS_FILE), "weights");
    NDArray codes = m.create(new byte[] {1, 2, 3, 4}, new Shape(4)).toType(DataType.UINT8, false);
    Checkpoint.finish(
        dir,
        Map.of("m.codes", codes, "m.absmax", m.create(new float[] {0.5f})),
        new Checkpoint.State(
            2, 4, 32768, 0, 42, "smol", List.of(FINITE, OVERFLOW), null, null, TOTALS),
        TrainConfig.defaults());
    return dir;
  }

  @Test
  void stateConfigAndOptimizerRoundTrip(@TempDir Path tmp) throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Path dir = write(tmp.resolve("step-2"), m);
      assertTrue(Checkpoint.isComplete(dir));
      assertEquals(TrainConfig.defaults(), Checkpoint.readConfig(dir));
      Checkpoint.State s = Checkpoint.readState(dir);
      assertEquals(List.of(FINITE, OVERFLOW), s.history()); // NaN and Infinity survive
      assertEquals(TOTALS, s.steps());
      assertEquals("smol", s.baseModel());
      Map<String, NDArray> opt = Checkpoint.readOptimizer(dir, m);
      assertEquals(DataType.UINT8, opt.get("m.codes").getDataType());
      assertEquals(0.5f, opt.get("m.absmax").getFloat(0));
      assertEquals(dir, Checkpoint.newest(tmp).orElseThrow());
    }
  }

  @Test
  void readsTheStateFileGsonWrote(@TempDir Path tmp) throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Path dir = write(tmp.resolve("step-2"), m);
      // checkpoints written before the move to Jackson hold bare NaN / Infinity tokens
      Files.writeString(
          dir.resolve(Checkpoint.STATE),
          "{\n  \"step\": 2,\n  \"totalSteps\": 4,\n  \"lossScale\": 32768.0,\n"
              + "  \"goodSteps\": 0,\n  \"seed\": 42,\n  \"baseModel\": \"smol\",\n"
              + "  \"history\": [{\"step\": 2, \"totalSteps\": 4, \"epoch\": 0, \"loss\": NaN,"
              + " \"learningRate\": 1.0E-4, \"gradNorm\": Infinity, \"lossScale\": 32768.0,"
              + " \"skipped\": true, \"tokensPerSecond\": 0.0, \"memoryBytes\": 1048576}]\n}");
      assertEquals(List.of(OVERFLOW), Checkpoint.readState(dir).history());
      // no totals in such a checkpoint: they are rebuilt from the steps it kept
      StepHistory rebuilt = Checkpoint.historyOf(Checkpoint.readState(dir));
      assertEquals(1, rebuilt.recorded());
      assertEquals(1, rebuilt.skipped());
    }
  }

  @Test
  void aDamagedFileMakesTheCheckpointIncomplete(@TempDir Path tmp) throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Path dir = write(tmp.resolve("step-2"), m);
      Files.writeString(dir.resolve(PeftAdapter.WEIGHTS_FILE), "weightz"); // same size
      var e = assertThrows(java.io.IOException.class, () -> Checkpoint.verify(dir));
      assertTrue(e.getMessage().contains("adapter_model.safetensors"), e.getMessage());
      assertFalse(Checkpoint.isComplete(dir));
      Files.writeString(dir.resolve(Checkpoint.MANIFEST), "{\"format\": \"other\"}");
      e = assertThrows(java.io.IOException.class, () -> Checkpoint.verify(dir));
      assertTrue(e.getMessage().contains("unknown format"), e.getMessage());
    }
  }
}
