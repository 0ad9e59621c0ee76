package io.loraflow.engine.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The PEFT adapter of the best held-out evaluation so far, kept in one local directory ({@code
 * <checkpointRoot>/best/}) and copied into every checkpoint as {@code best/}, so that a run resumed
 * on another machine still publishes the adapter of its best step, not of its last.
 *
 * <p>Replacing it is atomic for readers of this process: the new adapter is written to {@code
 * best.tmp/} and moved over the old one.
 */
final class BestCheckpoint {

  /** Sub-directory of a checkpoint that holds the best adapter so far. */
  static final String DIR = "best";

  /** The adapter files, in the order the checkpoint manifest lists them. */
  static final List<String> FILES =
      List.of(
          io.loraflow.engine.lora.PeftAdapter.CONFIG_FILE,
          io.loraflow.engine.lora.PeftAdapter.WEIGHTS_FILE);

  /** Writes a PEFT adapter of the current weights into a directory. */
  @FunctionalInterface
  interface AdapterWriter {
    void write(Path dir) throws IOException;
  }

  private final Path dir;

  /**
   * @param dir the local directory of the best adapter (emptied by {@link #clear()} on a fresh run)
   */
  BestCheckpoint(Path dir) {
    this.dir = dir;
  }

  /** True when a best adapter exists. */
  boolean present() {
    return FILES.stream().allMatch(f -> Files.isRegularFile(dir.resolve(f)));
  }

  /** Removes any best adapter (a fresh run starts without one). */
  void clear() throws IOException {
    deleteTree(dir);
  }

  /** Makes the current weights the best adapter. */
  void replace(AdapterWriter writer) throws IOException {
    Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
    deleteTree(tmp);
    Files.createDirectories(tmp);
    writer.write(tmp);
    deleteTree(dir);
    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Copies the best adapter into {@code checkpointDir/best/}; nothing when there is none. */
  void copyInto(Path checkpointDir) throws IOException {
    if (present()) {
      copyFiles(dir, checkpointDir.resolve(DIR));
    }
  }

  /** Takes the best adapter of a complete checkpoint (none when it has no {@code best/}). */
  void restoreFrom(Path checkpointDir) throws IOException {
    clear();
    Path saved = checkpointDir.resolve(DIR);
    if (FILES.stream().allMatch(f -> Files.isRegularFile(saved.resolve(f)))) {
      copyFiles(saved, dir);
    }
  }

  /** Copies the best adapter to {@code target} (a PEFT directory). */
  void copyTo(Path target) throws IOException {
    if (!present()) {
      throw new IllegalStateException("no best adapter in " + dir);
    }
    copyFiles(dir, target);
  }

  private static void copyFiles(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    for (String f : FILES) {
      Files.copy(from.resolve(f), to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(p)) {
      for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
