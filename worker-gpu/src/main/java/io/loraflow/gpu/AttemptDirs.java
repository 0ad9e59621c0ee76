package io.loraflow.gpu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The local scratch of one activity attempt: {@code <work>/runs/<runId>/<kind>-<attempt>}. An
 * attempt cleans its own directory when it ends, but a worker killed with SIGKILL cleans nothing;
 * the next attempt of the same run then deletes every older attempt's directory of its kind
 * (Temporal runs one attempt at a time, so an older one is dead or about to be refused), and local
 * disk does not grow with the number of kills.
 */
final class AttemptDirs {
  private AttemptDirs() {}

  /**
   * A fresh, empty directory for this attempt, after deleting the leftovers of the run's older
   * attempts of the same kind.
   *
   * @param kind "attempt" (train) or "eval"
   * @param attempt Temporal's 1-based attempt number
   */
  static Path fresh(Path workDir, String runId, String kind, int attempt) {
    clearOlder(workDir, runId, kind, attempt);
    Path mine = workDir.resolve("runs").resolve(runId).resolve(kind + "-" + attempt);
    BaseModelCache.deleteTree(mine);
    return mine;
  }

  /**
   * Deletes the leftovers of the run's attempts of {@code kind} older than {@code attempt}. An
   * attempt that finds an earlier one's published result and returns it at once makes no directory
   * of its own, but must still call this: the earlier attempt may have published and then been
   * killed before it cleaned up (the 100-kill chaos soak's run 5, session 18: Evaluate attempt 2
   * published its report, was killed, attempt 3 returned the report and eval-2/ stayed).
   */
  static void clearOlder(Path workDir, String runId, String kind, int attempt) {
    Path runDir = workDir.resolve("runs").resolve(runId);
    if (!Files.isDirectory(runDir)) {
      return;
    }
    List<Path> older;
    try (Stream<Path> list = Files.list(runDir)) {
      older = list.filter(p -> olderAttempt(p, kind, attempt)).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + runDir, e);
    }
    older.forEach(BaseModelCache::deleteTree);
  }

  private static boolean olderAttempt(Path p, String kind, int attempt) {
    String name = p.getFileName().toString();
    String prefix = kind + "-";
    if (!name.startsWith(prefix)) {
      return false;
    }
    try {
      return Integer.parseInt(name.substring(prefix.length())) < attempt;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
