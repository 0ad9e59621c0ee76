package io.loraflow.engine.nativeops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader's fallbacks, on the CPU CI has: every way the library can be missing or wrong leaves
 * the fast path off with a reason, never an exception, and CPU arrays never take the fast path.
 * (The GPU side, fast == plain, is FastPathCheck on the GPU machine.)
 */
class NativeOpsTest {

  @TempDir Path dir;

  @Test
  void offWhenNoLibraryIsConfigured() {
    NativeOps.Status s = NativeOps.load(Map.of(), null);
    assertFalse(s.loaded());
    assertTrue(s.reason().contains(NativeOps.LIBRARY_ENV), s.reason());
    assertTrue(s.describe().startsWith("GPU fast path off"), s.describe());
    assertTrue(s.describe().contains("plain DJL ops"), s.describe());
  }

  @Test
  void offWhenSwitchedOffEvenWithALibrary() throws Exception {
    Path lib = Files.writeString(dir.resolve("libloraflow_native.so"), "x");
    for (String off : new String[] {"off", "OFF", "0", "false"}) {
      NativeOps.Status s =
          NativeOps.load(
              Map.of(NativeOps.SWITCH_ENV, off, NativeOps.LIBRARY_ENV, lib.toString()), null);
      assertFalse(s.loaded(), off);
      assertEquals(NativeOps.SWITCH_ENV + "=" + off, s.reason());
    }
  }

  @Test
  void offWhenThePathIsNotAFile() {
    Path missing = dir.resolve("nope/libloraflow_native.so");
    NativeOps.Status s = NativeOps.load(Map.of(NativeOps.LIBRARY_ENV, missing.toString()), null);
    assertFalse(s.loaded());
    assertTrue(s.reason().contains("not a file"), s.reason());
    assertTrue(s.reason().contains(missing.toString()), s.reason());
    NativeOps.Status d = NativeOps.load(Map.of(NativeOps.LIBRARY_ENV, dir.toString()), null);
    assertFalse(d.loaded());
  }

  @Test
  void aBrokenLibraryFallsBackInsteadOfCrashing() throws Exception {
    Path junk = Files.write(dir.resolve("libloraflow_native.so"), new byte[] {0x7f, 'E', 'L', 'F'});
    NativeOps.Status s = NativeOps.load(Map.of(NativeOps.LIBRARY_ENV, junk.toString()), null);
    assertFalse(s.loaded());
    assertTrue(s.reason().startsWith("cannot load " + junk), s.reason());
  }

  @Test
  void theSystemPropertyWinsOverTheEnvironment() {
    Path fromProperty = dir.resolve("property.so");
    NativeOps.Status s =
        NativeOps.load(
            Map.of(NativeOps.LIBRARY_ENV, dir.resolve("env.so").toString()),
            fromProperty.toString());
    assertEquals(fromProperty.toAbsolutePath().toString(), s.library());
  }

  @Test
  void releasesCompareWithoutTheLocalVersion() {
    assertTrue(NativeOps.sameRelease("2.11.0", "2.11.0+cu130"));
    assertTrue(NativeOps.sameRelease("2.11.0+cu130", "2.11.0"));
    assertFalse(NativeOps.sameRelease("2.11.0", "2.7.1"));
    assertFalse(NativeOps.sameRelease(null, "2.7.1"));
  }

  @Test
  void cpuArraysNeverTakeTheFastPath() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      NDArray x = m.ones(new Shape(2, 3));
      assertFalse(FastOps.activeFor(x));
      assertTrue(FastOps.describe(Device.cpu()).startsWith("GPU fast path off: device is cpu"));
    }
  }

  @Test
  void memoryStatsNeedTheLibrary() {
    // CI has no library: the process-wide status is off, so there is nothing to read
    if (!NativeOps.loaded()) {
      assertNull(FastOps.memoryStats(0, false));
    }
  }
}
