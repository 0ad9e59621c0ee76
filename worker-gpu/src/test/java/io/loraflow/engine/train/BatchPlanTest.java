package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BatchPlanTest {

  private static Example ex(long first, int len) {
    long[] ids = new long[len];
    long[] labels = new long[len];
    for (int i = 0; i < len; i++) {
      ids[i] = first + i;
      labels[i] = i == 0 ? Example.IGNORE : first + i;
    }
    return new Example(ids, labels);
  }

  @Test
  void everyEpochVisitsEveryRowOnceInASeededOrder() {
    List<Example> data = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      data.add(ex(100 * i, 3));
    }
    var b = TrainConfig.defaults().toBuilder();
    b.batchSize = 3;
    b.epochs = 2;
    BatchPlan plan = new BatchPlan(data, b.build());
    assertEquals(3, plan.batchesPerEpoch());
    assertEquals(6, plan.totalBatches());
    List<Long> epoch0 = new ArrayList<>();
    List<Long> epoch1 = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      for (Example e : plan.batch(i)) {
        (i < 3 ? epoch0 : epoch1).add(e.inputIds()[0]);
      }
    }
    assertEquals(7, new HashSet<>(epoch0).size());
    assertEquals(Set.copyOf(epoch0), Set.copyOf(epoch1));
    assertNotEquals(epoch0, epoch1); // reshuffled
    // a fresh plan (a resumed run) gives the same batch for the same index
    BatchPlan again = new BatchPlan(data, b.build());
    assertArrayEquals(plan.batch(4).get(0).inputIds(), again.batch(4).get(0).inputIds());
  }

  @Test
  void packingConcatenatesUpToMaxLength() {
    List<Example> packed = BatchPlan.pack(List.of(ex(10, 4), ex(20, 3), ex(30, 5)), 8);
    assertEquals(2, packed.size());
    assertArrayEquals(new long[] {10, 11, 12, 13, 20, 21, 22}, packed.get(0).inputIds());
    // the first token of each packed example is never a target
    assertArrayEquals(new long[] {-100, 11, 12, 13, -100, 21, 22}, packed.get(0).labels());
    assertArrayEquals(new long[] {30, 31, 32, 33, 34}, packed.get(1).inputIds());
  }
}
