package io.loraflow.gpu.cli;

import io.loraflow.commandline.Command;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import io.loraflow.gpu.GpuWorker;
import io.loraflow.infra.CpuWorker;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code worker cpu|gpu|all}: runs the Temporal workers until the JVM is stopped (Ctrl-C, SIGTERM);
 * each worker's own main does the work and the graceful shutdown (a running training step
 * checkpoints first). {@code all} runs both in this JVM, the CPU worker on a second thread.
 */
final class WorkerCommand implements Command {

  @Override
  public String name() {
    return "worker";
  }

  @Override
  public String summary() {
    return "run Temporal workers (cpu, gpu or all) until stopped";
  }

  @Override
  public String description() {
    return "Runs workers until Ctrl-C or SIGTERM: cpu = the FineTune workflow and the CPU"
        + " activities (dataset, prompts, scoring, registration) on task queue loraflow-cpu;"
        + " gpu = training and evaluation on loraflow-gpu (on the CPU when there is no GPU; on"
        + " SIGTERM a running training step checkpoints first); all = both in this JVM.";
  }

  @Override
  public void configure(Subparser p) {
    p.addArgument("kind").choices("cpu", "gpu", "all").help("which worker(s)");
  }

  @Override
  public int run(Namespace args, Console console) throws InterruptedException {
    switch (args.getString("kind")) {
      case "cpu" -> CpuWorker.main(new String[0]);
      case "gpu" -> GpuWorker.main(new String[0]);
      default -> {
        Thread cpu = new Thread(() -> CpuWorker.main(new String[0]), "cpu-worker-main");
        cpu.start();
        GpuWorker.main(new String[0]);
        cpu.join();
      }
    }
    return ExitCodes.OK;
  }

  @Override
  public boolean longRunning() {
    return true;
  }
}
