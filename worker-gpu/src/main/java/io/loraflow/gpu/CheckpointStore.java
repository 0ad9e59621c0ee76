package io.loraflow.gpu;

import io.loraflow.infra.Manifest;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.workflows.StorageKeys;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Training checkpoints of a run in the object store: {@code runs/<id>/checkpoints/step-<n>/}, each
 * published files first, manifest last. Only complete ones are ever returned.
 */
public final class CheckpointStore implements ResumePoint.Checkpoints {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(CheckpointStore.class);

  private final ObjectStore store;
  private final PrefixPublisher publisher;
  private final long faultPauseMillis;

  public CheckpointStore(ObjectStore store) {
    this(store, 0);
  }

  /**
   * @param faultPauseMillis fault injection for durability tests: sleep this long between a
   *     checkpoint's files and its manifest ({@code LORAFLOW_FAULT_CHECKPOINT_PAUSE_MS}); 0 in
   *     production
   */
  public CheckpointStore(ObjectStore store, long faultPauseMillis) {
    this.store = store;
    this.publisher = new PrefixPublisher(store);
    this.faultPauseMillis = faultPauseMillis;
  }

  /** A complete checkpoint: its step and key prefix ({@code .../step-<n>/}). */
  public record Ref(long step, String key) {}

  /** Uploads a local checkpoint directory; returns its key once the manifest is written. */
  public Ref publish(String runId, long step, Path dir) {
    String key = StorageKeys.checkpoint(runId, step);
    publisher.publish(
        dir,
        strip(key),
        Map.of("step", Long.toString(step), "run", runId),
        () -> {
          if (faultPauseMillis > 0) {
            log.info("checkpoint files uploaded, manifest pending: {}", key);
            try {
              Thread.sleep(faultPauseMillis);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        });
    log.info("checkpoint published: {}", key);
    return new Ref(step, key);
  }

  /** The checkpoint at {@code key} if it is complete. */
  @Override
  public Optional<Ref> complete(String key) {
    OptionalLong step = StorageKeys.checkpointStep(key);
    if (step.isEmpty()) {
      throw new IllegalArgumentException("'" + key + "' is not a checkpoint key (.../step-<n>/)");
    }
    return publisher.readComplete(strip(key)).map(m -> new Ref(step.getAsLong(), key));
  }

  /** The complete checkpoint with the highest step, if any (half-written ones are skipped). */
  @Override
  public Optional<Ref> newestComplete(String runId) {
    return store.listChildPrefixes(StorageKeys.checkpointsPrefix(runId)).stream()
        .map(p -> new Ref(StorageKeys.checkpointStep(p).orElse(-1), p))
        .filter(r -> r.step() >= 0)
        .sorted(Comparator.comparingLong(Ref::step).reversed())
        .filter(r -> publisher.readComplete(strip(r.key())).isPresent())
        .findFirst();
  }

  /** Downloads a complete checkpoint into {@code dir} (every file verified by SHA-256). */
  public Manifest download(Ref ref, Path dir) {
    return publisher.download(strip(ref.key()), dir);
  }

  static String strip(String prefix) {
    return prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
  }
}
