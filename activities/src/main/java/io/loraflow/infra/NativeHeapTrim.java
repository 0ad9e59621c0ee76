package io.loraflow.infra;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Returns the native memory that glibc's allocator keeps after an activity back to the OS ({@code
 * malloc_trim(0)}), so that a worker's resident set ends each run where it started.
 *
 * <p>Why: a worker that ran 20 runs in a row grew ~23 MB of RSS per run while its Java heap,
 * threads and metaspace stayed flat (bench/results/durability.md). With {@code malloc_trim} after
 * each run the RSS stayed at 424-460 MB over 12 runs: the growth was memory libtorch and the
 * tokenizers had freed and glibc kept in its arenas, not a leak. Trimming runs on one daemon thread
 * after an activity returns (it does not delay the result), coalesced: at most one pending at a
 * time.
 *
 * <p>{@code LORAFLOW_TRIM_NATIVE_HEAP=on|off} (default on). A C library without {@code malloc_trim}
 * (musl) or without JNA turns it off with one log line.
 */
public final class NativeHeapTrim extends WorkerInterceptorBase {
  private static final Logger log = LoggerFactory.getLogger(NativeHeapTrim.class);

  /** The setting's name. */
  public static final String ENV = "LORAFLOW_TRIM_NATIVE_HEAP";

  private final Runnable trim; // null: off
  private final ExecutorService executor; // null: off
  private final AtomicBoolean pending = new AtomicBoolean();
  private final AtomicLong trims = new AtomicLong();

  /**
   * @param trim what returns the memory (glibc's {@code malloc_trim} in a worker, a counter in
   *     tests), or null for an interceptor that does nothing
   */
  NativeHeapTrim(Runnable trim) {
    this.trim = trim;
    this.executor =
        trim == null
            ? null
            : Executors.newSingleThreadExecutor(
                r -> {
                  Thread t = new Thread(r, "native-heap-trim");
                  t.setDaemon(true);
                  return t;
                });
  }

  /**
   * The interceptor for a worker with environment {@code env}; one that does nothing when the
   * setting is off or this process cannot trim.
   *
   * @throws IllegalArgumentException when the setting is neither on nor off
   */
  public static NativeHeapTrim forWorker(Map<String, String> env) {
    String v = env.getOrDefault(ENV, "on").trim().toLowerCase(Locale.ROOT);
    if (v.equals("off") || v.equals("false") || v.equals("0")) {
      return new NativeHeapTrim(null);
    }
    if (!(v.equals("on") || v.equals("true") || v.equals("1") || v.isEmpty())) {
      throw new IllegalArgumentException(
          ENV + "='" + env.get(ENV) + "': use on or off (default on)");
    }
    return new NativeHeapTrim(GlibcTrim.load());
  }

  /** True when it trims (the setting is on and the C library has malloc_trim). */
  boolean active() {
    return trim != null;
  }

  /** Trims done so far. */
  long trims() {
    return trims.get();
  }

  /** Asks for one trim soon; a request while one is pending is the same request. */
  void request() {
    if (trim == null || !pending.compareAndSet(false, true)) {
      return;
    }
    executor.execute(
        () -> {
          pending.set(false);
          try {
            trim.run();
            trims.incrementAndGet();
          } catch (RuntimeException | LinkageError e) {
            log.warn("native heap trim failed: {}", e.toString());
          }
        });
  }

  @Override
  public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
    if (trim == null) {
      return next;
    }
    return new ActivityInboundCallsInterceptorBase(next) {
      @Override
      public ActivityOutput execute(ActivityInput input) {
        try {
          return super.execute(input);
        } finally {
          request();
        }
      }
    };
  }

  /** glibc's malloc_trim through JNA. */
  private static final class GlibcTrim {
    interface LibC extends Library {
      int malloc_trim(long pad);
    }

    static Runnable load() {
      try {
        if (!Platform.isLinux()) {
          return null;
        }
        LibC c = Native.load(Platform.C_LIBRARY_NAME, LibC.class);
        c.malloc_trim(0); // fails here, once, where the C library has no malloc_trim
        return () -> c.malloc_trim(0);
      } catch (RuntimeException | LinkageError e) {
        log.info("native heap trim off: {} ({})", e.getClass().getSimpleName(), e.getMessage());
        return null;
      }
    }
  }
}
