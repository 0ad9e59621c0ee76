package io.loraflow.commandline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;
import org.junit.jupiter.api.Test;

class CommandLineTest {

  /** {@code follow SPEC [--follow] [--key K] [--limit N]}: records what it was given. */
  static final class Follow implements Command {
    final List<Namespace> seen = new ArrayList<>();

    @Override
    public String name() {
      return "run";
    }

    @Override
    public String summary() {
      return "start a run";
    }

    @Override
    public String epilog() {
      return "example:\n  loraflow run spec.yaml --follow";
    }

    @Override
    public void configure(Subparser p) {
      p.addArgument("spec").help("run spec file");
      p.addArgument("--follow").action(Arguments.storeTrue()).help("show live progress");
      p.addArgument("--key").help("idempotency key");
      p.addArgument("--limit").type(Integer.class).setDefault(20).help("at most N");
    }

    @Override
    public int run(Namespace args, Console console) throws Exception {
      seen.add(args);
      if (args.getString("spec").equals("bad")) {
        throw new UsageException("spec 'bad' makes no sense");
      }
      if (args.getString("spec").equals("boom")) {
        throw new IllegalStateException("the server is down");
      }
      if (args.getString("spec").equals("stop")) {
        throw new InterruptedException();
      }
      return 0;
    }
  }

  private final Follow follow = new Follow();
  private final CommandLine cli =
      new CommandLine(
          "loraflow",
          "fine-tune models",
          "settings: LORAFLOW_*",
          List.of(follow),
          List.of(new CommandLine.Elsewhere("train", "QLoRA on local files", "the engine jar")),
          (e, console) -> {
            console.err().println("loraflow: " + e.getMessage());
            return ExitCodes.FAILED;
          });

  private record Result(int code, String out, String err) {}

  private Result exec(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        cli.execute(
            args,
            new Console(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.of()));
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void parsesDeclaredArgumentsInBothValueForms() {
    assertEquals(0, exec("run", "spec.yaml", "--follow", "--key=k1", "--limit", "3").code());
    Namespace ns = follow.seen.get(0);
    assertEquals("spec.yaml", ns.getString("spec"));
    assertTrue(ns.getBoolean("follow"));
    assertEquals("k1", ns.getString("key"));
    assertEquals(3, ns.getInt("limit"));
    assertEquals(0, exec("run", "x").code());
    assertFalse(follow.seen.get(1).getBoolean("follow"));
    assertEquals(20, follow.seen.get(1).getInt("limit"));
  }

  @Test
  void perCommandHelpIsGeneratedFromTheDeclarationsEvenWithoutRequiredArguments() {
    Result r = exec("run", "--help");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("usage: loraflow run [-h] [--follow] [--key KEY]"), r.out());
    assertTrue(r.out().contains("--limit LIMIT"), r.out());
    assertTrue(r.out().contains("(default: 20)"), r.out());
    assertTrue(r.out().contains("loraflow run spec.yaml --follow"), r.out()); // the epilog
    assertEquals(r.out(), exec("help", "run").out());
    assertEquals(r.out(), cli.help("run"));
    assertTrue(follow.seen.isEmpty(), "help must not run the command");
  }

  @Test
  void topLevelHelpListsBothJarsCommandsAndTheExitCodes() {
    Result r = exec("--help");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("  run      start a run"), r.out());
    assertTrue(r.out().contains("  train    QLoRA on local files"), r.out());
    assertTrue(r.out().contains("exit codes: 0 ok"), r.out());
    assertEquals(r.out(), exec("help").out());
    Result none = exec();
    assertEquals(ExitCodes.USAGE, none.code());
    assertEquals(r.out(), none.err());
  }

  @Test
  void typosGetSuggestionsAndExitCode2() {
    Result command = exec("rnu", "spec.yaml");
    assertEquals(ExitCodes.USAGE, command.code());
    assertTrue(command.err().contains("Did you mean"), command.err());
    assertTrue(command.err().contains("run"), command.err());
    Result engine = exec("trian");
    assertTrue(engine.err().contains("train"), engine.err());
    Result option = exec("run", "spec.yaml", "--folow");
    assertEquals(ExitCodes.USAGE, option.code());
    assertTrue(option.err().contains("unrecognized arguments: '--folow'"), option.err());
    assertTrue(option.err().contains("--follow"), option.err());
    assertTrue(option.err().contains("loraflow run --help lists every option"), option.err());
    Result type = exec("run", "x", "--limit", "many");
    assertEquals(ExitCodes.USAGE, type.code());
    assertTrue(type.err().contains("--limit"), type.err());
    assertTrue(type.err().contains("'many'"), type.err());
    assertTrue(follow.seen.isEmpty());
  }

  @Test
  void exitCodesOfUsageFailureInterruptAndTheOtherJar() {
    Result usage = exec("run", "bad");
    assertEquals(ExitCodes.USAGE, usage.code());
    assertTrue(usage.err().contains("usage: loraflow run"), usage.err());
    assertTrue(usage.err().contains("loraflow run: error: spec 'bad' makes no sense"), usage.err());
    Result failed = exec("run", "boom");
    assertEquals(ExitCodes.FAILED, failed.code());
    assertEquals("loraflow: the server is down\n", failed.err());
    assertEquals(ExitCodes.INTERRUPTED, exec("run", "stop").code());
    Thread.interrupted(); // clear the flag the command line re-set
    Result elsewhere = exec("train", "--model", "m.gguf");
    assertEquals(ExitCodes.USAGE, elsewhere.code());
    assertTrue(
        elsewhere
            .err()
            .contains(
                "'train' ships with the engine jar; run it through the launcher:"
                    + " ./loraflow train --model m.gguf"),
        elsewhere.err());
  }
}
