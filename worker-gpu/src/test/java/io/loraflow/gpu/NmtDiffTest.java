package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class NmtDiffTest {

  // the shape of JDK 17's `jcmd <pid> VM.native_memory summary.diff`, trimmed
  private static final String REPORT =
      """
      12345:

      Native Memory Tracking:

      (Omitting categories weighting less than 1KB)

      Total: reserved=7842529KB -3007KB, committed=484745KB +2048KB

      -                 Java Heap (reserved=6172672KB, committed=397312KB)
                                  (mmap: reserved=6172672KB, committed=397312KB)

      -                     Class (reserved=1048785KB +12KB, committed=1361KB +12KB)
                                  (classes #2500)

      -                      Code (reserved=247871KB +3000KB, committed=7731KB +3000KB)
                                  (malloc=183KB #1826)

      -                        GC (reserved=267165KB -964KB, committed=52845KB -964KB)
                                  (malloc=5129KB #961)
      """;

  @Test
  void readsTheTotalAndEachCategorysChange() {
    NmtDiff d = NmtDiff.parse(REPORT);
    assertEquals(484745, d.committedKb());
    assertEquals(2048, d.committedDeltaKb());
    assertEquals(0L, d.deltasKb().get("Java Heap"));
    assertEquals(12L, d.deltasKb().get("Class"));
    assertEquals(3000L, d.deltasKb().get("Code"));
    assertEquals(-964L, d.deltasKb().get("GC"));
    assertEquals("[Code +3000 KB, GC -964 KB]", d.largestChanges(2));
  }

  @Test
  void aReportWithoutTrackingSaysWhatIsMissing() {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> NmtDiff.parse("12345:\nNative memory tracking is not enabled\n"));
    assertEquals(true, e.getMessage().contains("-XX:NativeMemoryTracking"), e.getMessage());
  }
}
