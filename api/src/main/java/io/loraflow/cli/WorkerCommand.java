package io.loraflow.cli;

import io.loraflow.gpu.GpuWorker;
import io.loraflow.infra.CpuWorker;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code worker cpu|gpu|all}: runs the Temporal workers until the JVM is stopped (Ctrl-C, SIGTERM);
 * each worker's own main does the work and the graceful shutdown (a running training step
 * checkpoints first). {@code all} runs both in this JVM, the CPU worker on a second thread.
 */
final class WorkerCommand {

  private WorkerCommand() {}

  static int run(List<String> args, PrintStream out) throws InterruptedException {
    if (args.size() != 1 || !List.of("cpu", "gpu", "all").contains(args.get(0))) {
      throw new Args.UsageException("worker: expected one of cpu, gpu, all; got " + args);
    }
    switch (args.get(0)) {
      case "cpu" -> cpu();
      case "gpu" -> GpuWorker.main(new String[0]);
      default -> {
        Thread cpu = new Thread(WorkerCommand::cpu, "cpu-worker-main");
        cpu.start();
        GpuWorker.main(new String[0]);
        cpu.join();
      }
    }
    return 0;
  }

  private static void cpu() {
    CpuWorker.main(new String[0]);
  }
}
