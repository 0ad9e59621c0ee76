package io.loraflow.gpu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The packaged engine jar ({@code worker-gpu/target/loraflow-engine.jar}): the engine's commands
 * run from it, each with its generated help, and the run commands point at the API jar.
 */
class EngineJarIT {

  static final Path JAR = Path.of("target", "loraflow-engine.jar");

  @Test
  void mainClassAndEngine() throws Exception {
    assertTrue(Files.isRegularFile(JAR), "no " + JAR.toAbsolutePath() + "; run mvn package");
    try (JarFile jar = new JarFile(JAR.toFile())) {
      assertEquals(
          "io.loraflow.gpu.cli.EngineCli",
          jar.getManifest().getMainAttributes().getValue("Main-Class"));
      assertTrue(jar.getEntry("ai/djl/pytorch/engine/PtEngine.class") != null, "no DJL PyTorch");
      assertTrue(jar.getEntry("io/loraflow/infra/CpuWorker.class") != null, "no CPU worker");
    }
  }

  @Test
  void everyEngineCommandHasItsHelpAndTheFormerlyUnlistedOptionsAreListed() throws Exception {
    for (String command : List.of("train", "generate", "chat", "prompts", "worker")) {
      Run help = java(command, "--help");
      assertEquals(0, help.code(), command + ": " + help.output());
      assertTrue(help.output().startsWith("usage: loraflow " + command), help.output());
    }
    String train = java("train", "--help").output();
    for (String option :
        List.of("--warmup-ratio", "--max-grad-norm", "--log-every", "--schedule", "--packing")) {
      assertTrue(train.contains(option), option + " missing in\n" + train);
    }
    Run typo = java("train", "--model", "m", "--data", "d", "--out", "o", "--warmup-ration", "1");
    assertEquals(2, typo.code(), typo.output());
    assertTrue(typo.output().contains("--warmup-ratio"), typo.output());
    Run run = java("run", "spec.yaml");
    assertEquals(2, run.code(), run.output());
    assertTrue(run.output().contains("'run' ships with the API jar"), run.output());
  }

  record Run(int code, String output) {}

  static Run java(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-jar");
    cmd.add(JAR.toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("java -jar " + JAR + " " + List.of(args) + " hung");
    }
    return new Run(p.exitValue(), out);
  }
}
