package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The packaged API jar ({@code api/target/loraflow.jar}, built in the package phase before this
 * runs): it carries the REST service and the run commands, not the engine (no DJL classes, no
 * libtorch), and its command line runs.
 */
class ApiJarIT {

  static final Path JAR = Path.of("target", "loraflow.jar");

  @Test
  void carriesNoEngineNoDjlAndNoLibtorch() throws IOException {
    assertTrue(Files.isRegularFile(JAR), "no " + JAR.toAbsolutePath() + "; run mvn package");
    List<String> engine = new ArrayList<>();
    boolean cli = false;
    try (JarFile jar = new JarFile(JAR.toFile())) {
      var entries = jar.entries();
      while (entries.hasMoreElements()) {
        String name = entries.nextElement().getName();
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        if (name.startsWith("ai/djl/")
            || name.startsWith("io/loraflow/engine/")
            || name.startsWith("io/loraflow/gpu/")
            || lower.contains("libtorch")
            || lower.contains("pytorch")) {
          engine.add(name);
        }
        cli |= name.equals("io/loraflow/cli/Loraflow.class");
      }
      assertEquals(
          "io.loraflow.cli.Loraflow", jar.getManifest().getMainAttributes().getValue("Main-Class"));
    }
    assertTrue(cli, "the command line is missing from " + JAR);
    assertEquals(
        List.of(), engine.subList(0, Math.min(20, engine.size())), "engine in the API jar");
  }

  @Test
  void itsCommandLineRunsAndPointsEngineCommandsAtTheEngineJar() throws Exception {
    Run help = java("--help");
    assertEquals(0, help.code(), help.output());
    assertTrue(help.output().contains("  run "), help.output());
    assertTrue(help.output().contains("  train "), help.output());
    Run runHelp = java("run", "--help");
    assertEquals(0, runHelp.code(), runHelp.output());
    assertTrue(runHelp.output().contains("training.learningRate"), runHelp.output());
    Run train = java("train", "--model", "x.gguf");
    assertEquals(2, train.code(), train.output());
    assertTrue(train.output().contains("'train' ships with the engine jar"), train.output());
    Run typo = java("stauts");
    assertEquals(2, typo.code(), typo.output());
    assertTrue(typo.output().contains("Did you mean"), typo.output());
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
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("java -jar " + JAR + " " + List.of(args) + " hung");
    }
    return new Run(p.exitValue(), out);
  }
}
