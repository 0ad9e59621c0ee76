package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.workflows.FailureTypes;
import io.temporal.failure.ApplicationFailure;
import org.junit.jupiter.api.Test;

class WorkerEnvironmentTest {
  @Test
  void aLinkageErrorBecomesOneNonRetryableFailureNamingWhatIsMissing() {
    NoClassDefFoundError missing = new NoClassDefFoundError("Could not initialize class X");
    missing.initCause(
        new UnsatisfiedLinkError("libfontmanager.so: libharfbuzz.so.0: cannot open shared object"));
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () ->
                WorkerEnvironment.guard(
                    "train",
                    () -> {
                      throw missing;
                    }));
    assertTrue(f.isNonRetryable());
    assertEquals(FailureTypes.WORKER_ENVIRONMENT, f.getType());
    assertTrue(f.getOriginalMessage().contains("libharfbuzz.so.0"), f.getOriginalMessage());
    assertTrue(
        f.getOriginalMessage()
            .startsWith("the GPU worker's Java runtime cannot load what train needs"));
    assertTrue(FailureTypes.NON_RETRYABLE.contains(FailureTypes.WORKER_ENVIRONMENT));
  }

  @Test
  void otherFailuresAndResultsPassThrough() {
    IllegalStateException e = new IllegalStateException("transient");
    assertSame(
        e,
        assertThrows(
            IllegalStateException.class,
            () ->
                WorkerEnvironment.guard(
                    "train",
                    () -> {
                      throw e;
                    })));
    assertEquals("ok", WorkerEnvironment.guard("train", () -> "ok"));
  }
}
