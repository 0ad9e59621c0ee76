package io.loraflow.engine.train;

import java.nio.file.Path;

/**
 * Called with the local directory of a complete checkpoint (its manifest.json is written), e.g. to
 * upload it. Runs on the training thread: training waits until it returns. An exception aborts the
 * run.
 */
@FunctionalInterface
public interface CheckpointListener {
  void onCheckpoint(long step, Path directory) throws Exception;
}
