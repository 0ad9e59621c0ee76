package io.loraflow.gpu;

import io.loraflow.infra.CpuWorker;

/** CPU and GPU workers in one JVM, as {@code loraflow worker all} runs them (for load tests). */
public final class AllWorkersMain {
  private AllWorkersMain() {}

  public static void main(String[] args) throws InterruptedException {
    Thread cpu = new Thread(() -> CpuWorker.main(new String[0]), "cpu-worker-main");
    cpu.start();
    GpuWorker.main(new String[0]);
    cpu.join();
  }
}
