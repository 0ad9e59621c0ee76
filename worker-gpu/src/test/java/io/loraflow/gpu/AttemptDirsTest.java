package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AttemptDirsTest {
  @Test
  void aNewAttemptDeletesTheLeftoversOfOlderOnesOfItsKindOnly(@TempDir Path work) throws Exception {
    Path run = work.resolve("runs").resolve("r1");
    for (String d : new String[] {"attempt-1", "attempt-2", "attempt-5", "eval-1", "notes"}) {
      Files.createDirectories(run.resolve(d).resolve("checkpoints"));
      Files.writeString(run.resolve(d).resolve("checkpoints").resolve("f"), "x");
    }
    Files.createDirectories(work.resolve("runs").resolve("r2").resolve("attempt-1"));

    Path mine = AttemptDirs.fresh(work, "r1", "attempt", 3);

    assertEquals(run.resolve("attempt-3"), mine);
    assertFalse(Files.exists(run.resolve("attempt-1")));
    assertFalse(Files.exists(run.resolve("attempt-2")));
    assertTrue(Files.exists(run.resolve("attempt-5")), "a newer attempt is not ours to delete");
    assertTrue(Files.exists(run.resolve("eval-1")), "another kind");
    assertTrue(Files.exists(run.resolve("notes")));
    assertTrue(Files.exists(work.resolve("runs").resolve("r2").resolve("attempt-1")));
    try (Stream<Path> s = Files.list(run)) {
      assertEquals(3, s.count());
    }
  }

  @Test
  void aFirstAttemptOnAnEmptyWorkDirIsFine(@TempDir Path work) {
    assertEquals(
        work.resolve("runs").resolve("r").resolve("eval-1"),
        AttemptDirs.fresh(work, "r", "eval", 1));
  }

  @Test
  void anAttemptThatReturnsAPublishedResultStillClearsTheOlderAttempts(@TempDir Path work)
      throws Exception {
    // Evaluate attempt 2 published its report and was killed before it cleaned eval-2/; attempt 3
    // returns that report without a directory of its own
    Path run = work.resolve("runs").resolve("r5");
    Files.createDirectories(run.resolve("eval-2").resolve("adapter"));
    Files.writeString(run.resolve("eval-2").resolve("eval.jsonl"), "{}");
    Files.createDirectories(run.resolve("attempt-1"));

    AttemptDirs.clearOlder(work, "r5", "eval", 3);

    assertFalse(Files.exists(run.resolve("eval-2")));
    assertFalse(Files.exists(run.resolve("eval-3")), "no directory of its own");
    assertTrue(Files.exists(run.resolve("attempt-1")), "another kind");
    AttemptDirs.clearOlder(work, "no-such-run", "eval", 3); // nothing there: fine
  }
}
