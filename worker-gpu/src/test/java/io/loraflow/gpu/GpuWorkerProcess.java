package io.loraflow.gpu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A real GPU worker in its own JVM (the test's classpath), so a test can kill -9 it like a
 * preempted machine and start another one.
 */
final class GpuWorkerProcess implements AutoCloseable {
  private final Process process;
  private final Path log;

  private GpuWorkerProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * @param workDir this worker's local scratch (a fresh worker should get a fresh one, as a new
   *     machine would)
   */
  static GpuWorkerProcess start(Path workDir, Path log, Map<String, String> extraEnv) {
    return start(workDir, log, extraEnv, GpuWorker.class);
  }

  /** The same JVM set-up running another worker main (e.g. CPU and GPU workers in one JVM). */
  static GpuWorkerProcess start(
      Path workDir, Path log, Map<String, String> extraEnv, Class<?> mainClass) {
    return start(workDir, log, extraEnv, mainClass, List.of());
  }

  /** The same with extra JVM options (e.g. -XX:NativeMemoryTracking=summary). */
  static GpuWorkerProcess start(
      Path workDir,
      Path log,
      Map<String, String> extraEnv,
      Class<?> mainClass,
      List<String> jvmOptions) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx3g");
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass.getName());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().put("LORAFLOW_GPU_WORK_DIR", workDir.toString());
    pb.environment().put("LORAFLOW_DEVICE", "cpu");
    pb.environment().put("LORAFLOW_HEARTBEAT_SECONDS", "2");
    pb.environment().put("LORAFLOW_METRICS_FLUSH_SECONDS", "2");
    pb.environment().putAll(extraEnv);
    try {
      Files.createDirectories(workDir);
      return new GpuWorkerProcess(pb.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the GPU worker JVM", e);
    }
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL: no shutdown hook, no checkpoint, like a preempted machine. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** SIGTERM: the worker's shutdown hook checkpoints and stops. Returns the exit code. */
  int terminate(Duration wait) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      process.waitFor();
      return -1;
    }
    return process.exitValue();
  }

  /** Waits until a log line satisfies {@code condition}; returns it. */
  String awaitLog(Predicate<String> condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (String line : lines()) {
        if (condition.test(line)) {
          return line;
        }
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("GPU worker exited; log " + log + ":\n" + tail());
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("no matching log line within " + timeout + "; " + tail());
  }

  List<String> lines() {
    try {
      return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
    } catch (IOException e) {
      return List.of();
    }
  }

  String tail() {
    List<String> l = lines();
    return String.join("\n", l.subList(Math.max(0, l.size() - 40), l.size()));
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill9();
    }
  }
}
