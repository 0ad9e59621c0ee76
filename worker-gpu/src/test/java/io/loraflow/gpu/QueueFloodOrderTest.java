package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class QueueFloodOrderTest {
  @Test
  void theRecordedFloodsAreOldestFirstAfterTheHead() {
    // session 17 (bench/results/queue-flood-400-s17.txt), first 16 of 50
    assertTrue(
        QueueFloodOrder.fifoAfterHead(
            List.of(10, 2, 0, 1, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15), 2));
    // session 16: 6, 2, 0, 1, 3, 4, 5, 7, 8, ...
    assertTrue(QueueFloodOrder.fifoAfterHead(List.of(6, 2, 0, 1, 3, 4, 5, 7, 8, 9), 2));
    // two admitted runs swap on the GPU queue
    assertTrue(QueueFloodOrder.fifoAfterHead(List.of(0, 1, 3, 2, 5, 4, 6), 2));
  }

  @Test
  void aRunThatJumpsTheQueueAfterTheHeadFails() {
    assertFalse(QueueFloodOrder.fifoAfterHead(List.of(0, 1, 2, 3, 9, 4, 5, 6, 7, 8), 2));
    assertFalse(QueueFloodOrder.fifoAfterHead(List.of(0, 1, 8, 7, 6, 5, 4, 3, 2), 2));
  }

  @Test
  void fewerCompletionsThanSlotsAreAnyOrder() {
    assertTrue(QueueFloodOrder.fifoAfterHead(List.of(5, 3), 2));
  }
}
