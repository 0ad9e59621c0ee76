package io.loraflow.infra;

import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a started {@link WorkerFactory} until the JVM is asked to stop (SIGTERM, SIGINT), then shuts
 * it down gracefully: first {@code beforeShutdown} (e.g. ask a running train activity to checkpoint
 * and stop), then {@code factory.shutdown()} and a bounded wait for running activities.
 */
public final class WorkerLifecycle {
  private static final Logger log = LoggerFactory.getLogger(WorkerLifecycle.class);

  private WorkerLifecycle() {}

  /**
   * INFO logging for the worker mains unless a logback configuration is given ({@code
   * -Dlogback.configurationFile=...}): logback's built-in default is DEBUG for everything.
   */
  public static void defaultLogging() {
    ClassLoader cl = WorkerLifecycle.class.getClassLoader();
    if (System.getProperty("logback.configurationFile") != null
        || cl.getResource("logback.xml") != null
        || cl.getResource("logback-test.xml") != null) {
      return;
    }
    if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext ctx) {
      ctx.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(ch.qos.logback.classic.Level.INFO);
    }
  }

  /**
   * {@code options} with heartbeats kept alive through a graceful shutdown (SDK 1.36+, sdk-java
   * #2075). By default {@code factory.shutdown()} stops the heartbeat executor at once: a train
   * activity asked to checkpoint and stop (SIGTERM on a preemption notice) then uploads its last
   * checkpoint without heartbeats and is timed out and retried by the server if that takes longer
   * than the heartbeat timeout. With this, the worker stops heartbeating only once its activities
   * have returned. {@code shutdownNow()} and kill -9 are unchanged.
   */
  public static WorkerOptions.Builder heartbeatUntilActivitiesReturn(
      WorkerOptions.Builder options) {
    return options.setAllowActivityHeartbeatDuringShutdown(true);
  }

  /** Blocks until the JVM shuts down; returns only on interrupt. */
  public static void runUntilShutdown(
      String name,
      WorkerFactory factory,
      Runnable beforeShutdown,
      Duration grace,
      AutoCloseable... closeAfter) {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("{}: shutdown requested", name);
                  try {
                    beforeShutdown.run();
                  } catch (RuntimeException e) {
                    log.warn("{}: pre-shutdown step failed: {}", name, e.toString());
                  }
                  factory.shutdown();
                  factory.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
                  for (AutoCloseable c : closeAfter) {
                    try {
                      c.close();
                    } catch (Exception e) {
                      log.warn("{}: close failed: {}", name, e.toString());
                    }
                  }
                  log.info("{}: stopped", name);
                  stopped.countDown();
                },
                name + "-shutdown"));
    factory.start();
    log.info("{}: polling", name);
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
