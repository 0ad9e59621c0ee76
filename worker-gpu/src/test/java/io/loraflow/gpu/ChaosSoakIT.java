package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI version of the chaos soak ({@link ChaosSoak}): a twin and {@code LORAFLOW_SOAK_RUNS}
 * (default 2) runs with {@code LORAFLOW_SOAK_KILLS} (default 3) seeded random kill -9 of the CPU
 * and GPU workers. The seed is printed first and in every failure; {@code LORAFLOW_SOAK_SEED}
 * replays one.
 */
class ChaosSoakIT {
  @TempDir Path tmp;

  @Test
  void runsSurviveRandomKillsWithTheTwinsAdapter() throws Exception {
    ChaosSoak.Config config = ChaosSoak.Config.fromEnv(tmp);
    ChaosSoak soak = new ChaosSoak(config);
    soak.run();
    assertTrue(soak.runsDone() >= config.runs(), soak.runsDone() + " runs; seed " + config.seed());
    assertTrue(
        soak.killsDone() >= Math.min(3, config.kills()),
        soak.killsDone() + " kills landed; seed " + config.seed());
  }
}
