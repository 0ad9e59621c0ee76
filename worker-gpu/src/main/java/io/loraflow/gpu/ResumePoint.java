package io.loraflow.gpu;

import io.loraflow.workflows.StorageKeys;
import io.loraflow.workflows.TrainHeartbeat;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where a train attempt starts: the checkpoint named by the last heartbeat when it is complete,
 * else the newest complete checkpoint of the run, else the beginning. When both exist the higher
 * step wins (a worker can die after publishing a checkpoint but before the heartbeat that names it
 * reaches the server). A heartbeat key of another run, or one that is not a checkpoint key, is
 * ignored. Pure: the object store is behind {@link Checkpoints}.
 */
final class ResumePoint {
  private ResumePoint() {}

  /** What the choice needs from the object store. */
  interface Checkpoints {
    /** The checkpoint at {@code key} when its manifest is written (files first, manifest last). */
    Optional<CheckpointStore.Ref> complete(String key);

    /** The complete checkpoint with the highest step. */
    Optional<CheckpointStore.Ref> newestComplete(String runId);
  }

  static Optional<CheckpointStore.Ref> choose(
      String runId, Optional<TrainHeartbeat> last, Checkpoints checkpoints) {
    Optional<CheckpointStore.Ref> fromHeartbeat =
        last.map(TrainHeartbeat::checkpointKey)
            .filter(k -> isCheckpointOf(runId, k))
            .flatMap(checkpoints::complete);
    Optional<CheckpointStore.Ref> newest = checkpoints.newestComplete(runId);
    return Stream.concat(fromHeartbeat.stream(), newest.stream())
        .max(Comparator.comparingLong(CheckpointStore.Ref::step));
  }

  static boolean isCheckpointOf(String runId, String key) {
    return key != null
        && key.startsWith(StorageKeys.checkpointsPrefix(runId))
        && StorageKeys.checkpointStep(key).isPresent();
  }
}
