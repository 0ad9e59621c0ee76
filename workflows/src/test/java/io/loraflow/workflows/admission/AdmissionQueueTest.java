package io.loraflow.workflows.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdmissionQueueTest {

  @Test
  void grantsOldestFirstWithinTheCapacity() {
    AdmissionQueue q = new AdmissionQueue(2);
    assertEquals(List.of("a"), q.request("a", 100));
    assertEquals(List.of("b"), q.request("b", 300));
    // asked later but started earlier: ahead of d
    assertEquals(List.of(), q.request("d", 500));
    assertEquals(List.of(), q.request("c", 400));
    assertEquals(List.of(), q.request("e", 400)); // same time as c: by id
    assertEquals(List.of("a", "b"), q.holders());
    assertEquals(1, q.position("c"));
    assertEquals(2, q.position("e"));
    assertEquals(3, q.position("d"));
    assertEquals(0, q.position("a"));
    assertEquals(-1, q.position("zz"));

    assertEquals(List.of("c"), q.release("b"));
    assertEquals(List.of("e"), q.release("a"));
    assertEquals(List.of("c", "e"), q.holders());
    assertEquals(List.of("d"), q.release("c"));
    assertEquals(List.of(), q.release("e"));
    assertEquals(List.of(), q.release("d"));
    assertEquals(0, q.holders().size());
    assertEquals(0, q.waitingCount());
  }

  @Test
  void neverMoreHoldersThanTheCapacityWhateverTheOrderOfCalls() {
    AdmissionQueue q = new AdmissionQueue(3);
    java.util.Random random = new java.util.Random(7);
    java.util.Set<String> granted = new java.util.HashSet<>();
    for (int i = 0; i < 2000; i++) {
      String id = "r" + random.nextInt(40);
      if (random.nextBoolean()) {
        granted.addAll(q.request(id, random.nextInt(1000)));
      } else {
        granted.addAll(q.release(id));
      }
      assertTrue(q.holders().size() <= 3, q.holders().toString());
      // nobody waits while a slot is free
      assertTrue(q.holders().size() == 3 || q.waitingCount() == 0, q.snapshot().toString());
    }
    assertTrue(granted.size() > 3);
  }

  @Test
  void askingAgainKeepsThePlaceAndAHolderIsToldAgain() {
    AdmissionQueue q = new AdmissionQueue(1);
    q.request("a", 1);
    q.request("b", 2);
    q.request("c", 3);
    assertEquals(List.of(), q.request("c", 0)); // a retried ask does not jump the queue
    assertEquals(2, q.position("c"));
    assertEquals(List.of("a"), q.request("a", 1));
    assertEquals(1, q.holders().size());
  }

  @Test
  void releasingAWaitingRunRemovesItFromTheQueue() {
    AdmissionQueue q = new AdmissionQueue(1);
    q.request("a", 1);
    q.request("b", 2);
    q.request("c", 3);
    assertEquals(List.of(), q.release("b"));
    assertEquals(1, q.position("c"));
    assertEquals(List.of("c"), q.release("a"));
    assertEquals(List.of(), q.release("unknown"));
  }

  @Test
  void aLargerCapacityAdmitsAtOnceASmallerOneWaitsForReleases() {
    AdmissionQueue q = new AdmissionQueue(1);
    for (String id : List.of("a", "b", "c", "d")) {
      q.request(id, id.charAt(0));
    }
    assertEquals(List.of("b", "c"), q.setCapacity(3));
    assertEquals(List.of(), q.setCapacity(1));
    assertEquals(List.of(), q.release("a"));
    assertEquals(List.of(), q.release("b"));
    assertEquals(List.of("d"), q.release("c"));
    assertThrows(IllegalArgumentException.class, () -> q.setCapacity(0));
  }

  @Test
  void aSnapshotRebuildsTheSameQueue() {
    AdmissionQueue q = new AdmissionQueue(2);
    for (int i = 0; i < 6; i++) {
      q.request("r" + i, 10 - i); // r0, r1 take the free slots; then r5 is the oldest waiting
    }
    AdmissionQueue copy = AdmissionQueue.from(q.snapshot());
    assertEquals(q.snapshot(), copy.snapshot());
    assertEquals(List.of("r0", "r1"), copy.holders());
    assertEquals(1, copy.position("r5"));
    assertEquals(4, copy.position("r2"));
    assertEquals(List.of("r5"), copy.release("r0"));
    assertEquals(List.of("r5"), q.release("r0"));
    assertEquals(q.snapshot(), copy.snapshot());
  }

  @Test
  void settingsAreValidatedWithTheirNames() {
    assertEquals(AdmissionConfig.DEFAULT, AdmissionConfig.fromEnv(Map.of()));
    assertEquals(5, AdmissionConfig.fromEnv(Map.of(AdmissionConfig.SLOTS, " 5 ")).slots());
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> AdmissionConfig.fromEnv(Map.of(AdmissionConfig.SLOTS, "0")));
    assertTrue(e.getMessage().contains("LORAFLOW_ADMISSION_SLOTS must be in [1, 1000], got 0"));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> AdmissionConfig.fromEnv(Map.of(AdmissionConfig.CHECK_SECONDS, "soon")));
    assertTrue(e.getMessage().contains("LORAFLOW_ADMISSION_CHECK_SECONDS='soon'"));
    assertEquals(
        "position 3 of 97 waiting; 2 of 2 slots in use", new QueuePosition(3, 97, 2, 2).describe());
  }
}
