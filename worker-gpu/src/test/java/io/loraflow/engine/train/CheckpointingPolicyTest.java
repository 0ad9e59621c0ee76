package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.engine.model.ModelConfig;
import io.loraflow.engine.train.bench.QloraBench;
import org.junit.jupiter.api.Test;

/** Gradient checkpointing goes off only where keeping everything for backward is small. */
class CheckpointingPolicyTest {

  private static final long H200 = 143_771_000_832L;

  private static TrainConfig config(int batch, int seq) {
    TrainConfig.Builder b = TrainConfig.defaults().toBuilder();
    b.batchSize = batch;
    b.maxSeqLen = seq;
    return b.build();
  }

  @Test
  void smallModelOnABigGpuSkipsTheRecompute() {
    ModelConfig smol = QloraBench.shape("smollm2-135m", 0);
    long linear = 106_168_320L; // QloraBench's linear_params for this shape
    TrainConfig on = config(1, 256);
    assertTrue(on.gradientCheckpointing(), "the default asks for checkpointing");
    long kept = CheckpointingPolicy.keptBytes(smol, linear, 1, 256);
    assertTrue(kept > 200L << 20 && kept < 1L << 30, "a few hundred MiB, got " + kept);
    CheckpointingPolicy.Decision d = CheckpointingPolicy.resolve(on, smol, linear, H200);
    assertFalse(d.config().gradientCheckpointing());
    assertTrue(d.turnedOff());
    assertEquals(kept, d.keptBytes(), "the estimate the log line reports");
    assertEquals(2L << 30, d.budgetBytes(), "min(2 GiB, 5% of 141 GB)");
    // a 4 GiB card: 5% is 205 MiB, less than SmolLM2 keeps -> stays on
    assertTrue(
        CheckpointingPolicy.resolve(on, smol, linear, 4L << 30).config().gradientCheckpointing());
    // long sequences and big batches grow the activations past 2 GiB -> on
    assertTrue(
        CheckpointingPolicy.resolve(config(16, 2048), smol, linear, H200)
            .config()
            .gradientCheckpointing());
  }

  @Test
  void theEstimateUsesTheLongestRowNotTheLimit() {
    // the durability check's run: SmolLM2, batch 4, limit 512, FAQ rows of at most 92 tokens.
    // At 512 tokens per row backward would keep ~2.6 GB (> 2 GiB: recompute); at 92 tokens ~0.7 GB
    ModelConfig smol = QloraBench.shape("smollm2-135m", 0);
    long linear = 106_168_320L;
    TrainConfig on = config(4, 512);
    CheckpointingPolicy.Decision byLimit = CheckpointingPolicy.resolve(on, smol, linear, H200);
    assertTrue(byLimit.config().gradientCheckpointing(), "512-token rows: " + byLimit.keptBytes());
    CheckpointingPolicy.Decision byData = CheckpointingPolicy.resolve(on, smol, linear, H200, 92);
    assertFalse(byData.config().gradientCheckpointing(), "92-token rows: " + byData.keptBytes());
    assertEquals(CheckpointingPolicy.keptBytes(smol, linear, 4, 92), byData.keptBytes());
    // a row longer than the limit is cut to it: the estimate never exceeds the limit's
    assertEquals(
        byLimit.keptBytes(), CheckpointingPolicy.resolve(on, smol, linear, H200, 4096).keptBytes());
  }

  @Test
  void largeModelsAndUnknownDevicesKeepCheckpointing() {
    ModelConfig llama8b = QloraBench.shape("llama-3-8b", 0);
    TrainConfig on = config(1, 256);
    assertTrue(
        CheckpointingPolicy.resolve(on, llama8b, 7_504_658_432L, H200)
            .config()
            .gradientCheckpointing());
    ModelConfig smol = QloraBench.shape("smollm2-135m", 0);
    CheckpointingPolicy.Decision unknown = CheckpointingPolicy.resolve(on, smol, 106_168_320L, -1);
    assertSame(on, unknown.config());
    assertFalse(unknown.turnedOff());
    assertEquals(-1, unknown.keptBytes());
    TrainConfig.Builder b = on.toBuilder();
    b.gradientCheckpointing = false;
    TrainConfig off = b.build();
    assertSame(off, CheckpointingPolicy.resolve(off, llama8b, 7_504_658_432L, H200).config());
  }
}
