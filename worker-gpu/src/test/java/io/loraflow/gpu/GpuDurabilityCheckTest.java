package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GPU checks' own judgement (no engine): what counts as a good resume and a flat memory. */
class GpuDurabilityCheckTest {
  @TempDir Path dir;

  /** A train log like GpuDurabilityCheck writes: steps from..to, checkpoints, maybe a summary. */
  Path log(
      String name,
      String resumeFrom,
      long from,
      long to,
      long every,
      double lossShift,
      boolean finished)
      throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add("SLF4J(W): not JSON, skipped");
    lines.add(
        "{\"event\":\"attempt\",\"name\":\"x\",\"resume_from\":\""
            + resumeFrom
            + "\",\"batch\":4}");
    for (long s = from; s <= to; s++) {
      lines.add(
          "{\"event\":\"step\",\"step\":" + s + ",\"loss\":" + (3.0 - 0.05 * s + lossShift) + "}");
      if (s % every == 0) {
        lines.add("{\"event\":\"checkpoint\",\"step\":" + s + "}");
      }
    }
    if (finished) {
      lines.add(
          "{\"check\":\"train-x\",\"pass\":true,\"steps\":"
              + to
              + ",\"total_steps\":"
              + to
              + ",\"best_step\":40,\"best_eval_loss\":1.25,\"evals\":5,\"adapter\":\""
              + dir.resolve("adapter-" + name)
              + "\"}");
    } else {
      lines.add("{\"event\":\"step\",\"step\":" + (to + 1) + ",\"lo"); // cut by kill -9
    }
    Path p = dir.resolve(name + ".log");
    Files.write(p, lines);
    return p;
  }

  List<String> problems(Path a, Path killed, Path resumed) throws IOException {
    return GpuDurabilityCheck.resumeProblems(
        GpuDurabilityCheck.TrainLog.read(a),
        GpuDurabilityCheck.TrainLog.read(killed),
        GpuDurabilityCheck.TrainLog.read(resumed),
        0.02,
        new LinkedHashMap<>());
  }

  @Test
  void aRunKilledAfterItsCheckpointAndResumedThereIsGood() throws IOException {
    Path a = log("a", "none", 1, 46, 10, 0, true);
    Path killed = log("b1", "none", 1, 25, 10, 0, false);
    Path resumed = log("b2", "step-20", 21, 46, 10, 0.001, true);
    Map<String, Object> f = new LinkedHashMap<>();
    List<String> p =
        GpuDurabilityCheck.resumeProblems(
            GpuDurabilityCheck.TrainLog.read(a),
            GpuDurabilityCheck.TrainLog.read(killed),
            GpuDurabilityCheck.TrainLog.read(resumed),
            0.02,
            f);
    assertEquals(List.of(), p);
    assertEquals(20L, f.get("resumed_from"));
    assertEquals(25L, f.get("killed_after_step"));
    assertEquals(5L, f.get("steps_lost_to_kill"));
    assertEquals("21..46", f.get("resumed_steps"));
  }

  @Test
  void resumingFromAnOlderCheckpointOrSkippingStepsOrAnotherCurveIsNot() throws IOException {
    Path a = log("a", "none", 1, 46, 10, 0, true);
    Path killed = log("b1", "none", 1, 25, 10, 0, false);
    assertTrue(
        problems(a, killed, log("old", "step-10", 11, 46, 10, 0, true)).stream()
            .anyMatch(s -> s.contains("not the newest checkpoint 20")));
    assertTrue(
        problems(a, killed, log("gap", "step-20", 23, 46, 10, 0, true)).stream()
            .anyMatch(s -> s.contains("are not 20+1..46")));
    assertTrue(
        problems(a, killed, log("off", "step-20", 21, 46, 10, 0.5, true)).stream()
            .anyMatch(s -> s.contains("departs from the uninterrupted one")));
    assertTrue(
        problems(a, log("early", "none", 1, 8, 10, 0, false), log("r", "none", 1, 46, 10, 0, true))
            .stream()
            .anyMatch(s -> s.contains("killed before its first checkpoint")));
    assertTrue(
        problems(
                a,
                log("done", "none", 1, 46, 10, 0, true),
                log("r2", "step-40", 41, 46, 10, 0, true))
            .stream()
            .anyMatch(s -> s.contains("was not killed mid-run")));
  }

  static long[] mib(long device, long torch, long heap, long rss) {
    return new long[] {device << 20, torch < 0 ? -1 : torch << 20, heap << 20, rss << 20};
  }

  @Test
  void memoryMustComeBackToTheWarmBaseline() {
    List<long[]> flat = new ArrayList<>();
    flat.add(mib(500, 0, 40, 900)); // before any run: allocator and JIT still cold
    for (int i = 1; i <= 20; i++) {
      flat.add(mib(1700 + i % 3, 3, 60 + i % 5, 2000 + 3 * i));
    }
    Map<String, Object> f = new LinkedHashMap<>();
    assertEquals(List.of(), GpuDurabilityCheck.memoryProblems(flat, f));
    assertEquals(500L, f.get("device_used_start_mib"));
    assertEquals(1701L, f.get("device_used_after_run1_mib"));

    List<long[]> leaking = new ArrayList<>();
    leaking.add(mib(500, -1, 40, 900));
    for (int i = 1; i <= 20; i++) {
      leaking.add(mib(1700 + 8 * i, -1, 60, 2000));
    }
    Map<String, Object> g = new LinkedHashMap<>();
    List<String> p = GpuDurabilityCheck.memoryProblems(leaking, g);
    assertEquals(List.of("device_used grew 152 MiB over 19 runs"), p);
    assertEquals("unavailable", g.get("torch_allocated"));
    assertEquals(8192L, g.get("device_used_per_run_kib"));
  }
}
