package io.loraflow.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.Header;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class NativeHeapTrimTest {

  /** The activity the interceptor wraps: returns, or throws when told to. */
  private static ActivityInboundCallsInterceptor activity(boolean fails) {
    return new ActivityInboundCallsInterceptor() {
      @Override
      public void init(ActivityExecutionContext context) {}

      @Override
      public ActivityOutput execute(ActivityInput input) {
        if (fails) {
          throw new IllegalStateException("the activity failed");
        }
        return new ActivityOutput("done");
      }
    };
  }

  private static ActivityInboundCallsInterceptor.ActivityInput input() {
    return new ActivityInboundCallsInterceptor.ActivityInput(Header.empty(), new Object[0]);
  }

  private static void awaitTrims(NativeHeapTrim t, long n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (t.trims() < n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }

  @Test
  void everyActivityEndTrimsOnceAfterItReturnsOrFails() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    NativeHeapTrim t = new NativeHeapTrim(calls::incrementAndGet);
    assertEquals("done", t.interceptActivity(activity(false)).execute(input()).getResult());
    awaitTrims(t, 1);
    assertEquals(1, calls.get());
    assertThrows(
        IllegalStateException.class, () -> t.interceptActivity(activity(true)).execute(input()));
    awaitTrims(t, 2);
    assertEquals(2, calls.get(), "a failed activity frees memory too");
  }

  @Test
  void requestsWhileOneIsPendingAreOneTrim() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    NativeHeapTrim t =
        new NativeHeapTrim(
            () -> {
              calls.incrementAndGet();
              running.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    t.request();
    assertTrue(running.await(5, TimeUnit.SECONDS));
    for (int i = 0; i < 50; i++) {
      t.request(); // one more pending at most, whatever the number of activities that end now
    }
    release.countDown();
    awaitTrims(t, 2);
    Thread.sleep(100);
    assertEquals(2, calls.get());
  }

  @Test
  void aFailingTrimIsLoggedAndTheWorkerGoesOn() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    NativeHeapTrim t =
        new NativeHeapTrim(
            () -> {
              if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("no");
              }
            });
    t.request();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (calls.get() < 1 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    t.request();
    awaitTrims(t, 1);
    assertEquals(2, calls.get());
  }

  @Test
  void theSettingIsOnByDefaultOffOnAskAndRefusedOtherwise() {
    NativeHeapTrim off = NativeHeapTrim.forWorker(Map.of(NativeHeapTrim.ENV, "off"));
    assertFalse(off.active());
    ActivityInboundCallsInterceptor next = activity(false);
    assertSame(next, off.interceptActivity(next), "off: the activity runs unwrapped");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> NativeHeapTrim.forWorker(Map.of(NativeHeapTrim.ENV, "sometimes")));
    assertTrue(e.getMessage().contains("LORAFLOW_TRIM_NATIVE_HEAP='sometimes'"), e.getMessage());
    // this Linux machine has glibc: the default is a working trim, called once at load
    assertTrue(NativeHeapTrim.forWorker(Map.of()).active());
  }
}
