package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The soak's per-run kill plan: drawn from the targets, in pipeline order, reproducible by seed.
 */
class ChaosSoakPlanTest {

  @Test
  void aRunsTargetsComeInPipelineOrder() {
    for (long seed = 0; seed < 50; seed++) {
      List<String> plan = ChaosSoak.planKills(new Random(seed), 5);
      assertEquals(5, plan.size());
      for (int k = 1; k < plan.size(); k++) {
        int before = ChaosSoak.PIPELINE_ORDER.indexOf(plan.get(k - 1).replace("@cpu", ""));
        int after = ChaosSoak.PIPELINE_ORDER.indexOf(plan.get(k).replace("@cpu", ""));
        assertTrue(before >= 0 && after >= before, "seed " + seed + ": " + plan);
      }
      assertTrue(ChaosSoak.TARGETS.containsAll(plan), plan.toString());
    }
  }

  @Test
  void theSameSeedPlansTheSameKills() {
    assertEquals(ChaosSoak.planKills(new Random(7), 6), ChaosSoak.planKills(new Random(7), 6));
  }

  @Test
  void everyTargetIsAnActivityOfThePipeline() {
    for (String t : ChaosSoak.TARGETS) {
      assertTrue(ChaosSoak.PIPELINE_ORDER.contains(t.replace("@cpu", "")), t);
    }
  }
}
