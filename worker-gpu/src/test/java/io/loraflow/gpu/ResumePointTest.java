package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.loraflow.workflows.StorageKeys;
import io.loraflow.workflows.TrainHeartbeat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The resume point of a train attempt (also issue 12): heartbeat key, complete, newest. */
class ResumePointTest {
  static final String RUN = "run-a";

  /** Checkpoints of the object store: step -> complete (manifest written). */
  static ResumePoint.Checkpoints store(Map<Long, Boolean> steps) {
    TreeMap<Long, Boolean> all = new TreeMap<>(steps);
    return new ResumePoint.Checkpoints() {
      @Override
      public Optional<CheckpointStore.Ref> complete(String key) {
        long step = StorageKeys.checkpointStep(key).orElseThrow();
        return Boolean.TRUE.equals(all.get(step))
            ? Optional.of(new CheckpointStore.Ref(step, key))
            : Optional.empty();
      }

      @Override
      public Optional<CheckpointStore.Ref> newestComplete(String runId) {
        return all.descendingMap().entrySet().stream()
            .filter(Map.Entry::getValue)
            .findFirst()
            .map(
                e ->
                    new CheckpointStore.Ref(e.getKey(), StorageKeys.checkpoint(runId, e.getKey())));
      }
    };
  }

  static Optional<TrainHeartbeat> beat(String key) {
    return Optional.of(new TrainHeartbeat(0, key, null));
  }

  static Optional<Long> step(Optional<CheckpointStore.Ref> r) {
    return r.map(CheckpointStore.Ref::step);
  }

  @Test
  void nothingStoredStartsFromTheBeginning() {
    assertEquals(
        Optional.empty(), step(ResumePoint.choose(RUN, Optional.empty(), store(Map.of()))));
  }

  @Test
  void theHeartbeatsCompleteCheckpoint() {
    var s = store(Map.of(20L, true));
    assertEquals(
        Optional.of(20L), step(ResumePoint.choose(RUN, beat(StorageKeys.checkpoint(RUN, 20)), s)));
  }

  @Test
  void aNewerCompleteCheckpointThanTheHeartbeatWins() {
    // the worker died after publishing step 40 but before its heartbeat reached the server
    var s = store(Map.of(20L, true, 40L, true));
    assertEquals(
        Optional.of(40L), step(ResumePoint.choose(RUN, beat(StorageKeys.checkpoint(RUN, 20)), s)));
  }

  @Test
  void aHalfWrittenCheckpointIsNeverChosen() {
    var s = store(Map.of(20L, true, 40L, false));
    assertEquals(
        Optional.of(20L), step(ResumePoint.choose(RUN, beat(StorageKeys.checkpoint(RUN, 40)), s)));
    assertEquals(Optional.of(20L), step(ResumePoint.choose(RUN, Optional.empty(), s)));
  }

  @Test
  void keysOfAnotherRunOrNotCheckpointsAreIgnored() {
    var s = store(Map.of(10L, true));
    assertEquals(
        Optional.of(10L),
        step(ResumePoint.choose(RUN, beat(StorageKeys.checkpoint("run-b", 90)), s)));
    assertEquals(Optional.of(10L), step(ResumePoint.choose(RUN, beat("runs/run-a/adapter/"), s)));
    assertEquals(Optional.of(10L), step(ResumePoint.choose(RUN, beat(""), s)));
    assertEquals(Optional.of(10L), step(ResumePoint.choose(RUN, beat(null), s)));
  }
}
