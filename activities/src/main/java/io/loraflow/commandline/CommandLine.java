package io.loraflow.commandline;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToIntBiFunction;
import net.sourceforge.argparse4j.ArgumentParsers;
import net.sourceforge.argparse4j.inf.Argument;
import net.sourceforge.argparse4j.inf.ArgumentAction;
import net.sourceforge.argparse4j.inf.ArgumentParser;
import net.sourceforge.argparse4j.inf.ArgumentParserException;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;
import net.sourceforge.argparse4j.inf.Subparsers;

/**
 * The command line of one jar: a program name, its {@link Command}s and the commands that ship in
 * the other jar ({@link #elsewhere}). Parses with argparse4j (the parser Dropwizard's own commands
 * use), so every command gets a generated usage line and {@code --help}, a typo'd command or option
 * gets argparse4j's "Did you mean" list, and every failure ends in one of the {@link ExitCodes}.
 */
public final class CommandLine {

  /** Help texts are wrapped at this width: stable output, whatever the terminal says. */
  static final int HELP_WIDTH = 100;

  private static final String COMMAND_KEY = "loraflow.command";

  private final String program;
  private final String description;
  private final String epilog;
  private final Map<String, Command> commands = new LinkedHashMap<>();
  private final Map<String, Elsewhere> elsewhere = new LinkedHashMap<>();
  private final ToIntBiFunction<Exception, Console> errors;

  /** For {@link #single}: the command every argument list is for; null for a full command line. */
  private String implied;

  /** A command of the other jar: listed in the help, dispatched there by {@code ./loraflow}. */
  public record Elsewhere(String name, String summary, String where) {}

  /**
   * @param program the name in usage lines, e.g. {@code loraflow}
   * @param description the paragraph under the top-level usage line
   * @param epilog text at the end of the top-level help (settings, exit codes)
   * @param commands this jar's commands, in help order
   * @param elsewhere the other jar's commands (for the list, typo suggestions and a clear error)
   * @param errors maps an exception a command threw to an exit code (after printing what to do);
   *     {@link UsageException} and {@link InterruptedException} never reach it
   */
  public CommandLine(
      String program,
      String description,
      String epilog,
      List<Command> commands,
      List<Elsewhere> elsewhere,
      ToIntBiFunction<Exception, Console> errors) {
    this.program = program;
    this.description = description;
    this.epilog = epilog;
    for (Command c : commands) {
      if (this.commands.put(c.name(), c) != null) {
        throw new IllegalArgumentException("two commands named '" + c.name() + "'");
      }
    }
    for (Elsewhere e : elsewhere) {
      this.elsewhere.put(e.name(), e);
    }
    this.errors = errors;
  }

  /**
   * A command line of one command whose arguments come without its name ({@code
   * TrainCommand.run("--model", ...)}, for embedding and tests); an exception it throws is printed
   * as {@code loraflow <name>: <message>}, exit 1.
   */
  public static CommandLine single(Command command) {
    CommandLine cli =
        new CommandLine(
            "loraflow",
            null,
            null,
            List.of(command),
            List.of(),
            (e, console) -> {
              console.err().println("loraflow " + command.name() + ": " + e.getMessage());
              return ExitCodes.FAILED;
            });
    cli.implied = command.name();
    return cli;
  }

  /**
   * Parses {@code args} (without the command's name) by {@code command}'s declarations, for tests
   * and callers that want the values without running it.
   *
   * @throws IllegalArgumentException with argparse4j's message when the arguments do not parse
   */
  public static Namespace parse(Command command, String... args) {
    String[] full = new String[args.length + 1];
    full[0] = command.name();
    System.arraycopy(args, 0, full, 1, args.length);
    try {
      return single(command).parser().parseArgs(full);
    } catch (ArgumentParserException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** The command named {@code name}, or null. */
  public Command command(String name) {
    return commands.get(name);
  }

  /** Parses {@code args} and runs the command they name; returns the exit code. */
  public int execute(String[] args, Console console) {
    if (implied != null && (args.length == 0 || !args[0].equals(implied))) {
      String[] full = new String[args.length + 1];
      full[0] = implied;
      System.arraycopy(args, 0, full, 1, args.length);
      args = full;
    }
    if (args.length == 0) {
      console.err().print(help());
      return ExitCodes.USAGE;
    }
    String first = args[0];
    if (List.of("-h", "--help").contains(first) || first.equals("help") && args.length == 1) {
      console.out().print(help());
      return ExitCodes.OK;
    }
    if (first.equals("help")) {
      // `help run` = `run --help`
      return execute(new String[] {args[1], "--help"}, console);
    }
    Elsewhere other = elsewhere.get(first);
    if (other != null) {
      console
          .err()
          .println(
              program
                  + ": '"
                  + first
                  + "' ships with "
                  + other.where()
                  + "; run it through the launcher: ./loraflow "
                  + String.join(" ", args));
      return ExitCodes.USAGE;
    }
    ArgumentParser parser = parser();
    Namespace ns;
    try {
      ns = parser.parseArgs(args);
    } catch (HelpRequested h) {
      console.out().print(h.getParser().formatHelp());
      return ExitCodes.OK;
    } catch (ArgumentParserException e) {
      PrintWriter w = writer(console);
      e.getParser().handleError(e, w);
      boolean known = commands.containsKey(commandWord(args));
      w.println(
          known
              ? "(" + program + " " + commandWord(args) + " --help lists every option)"
              : "(" + program + " --help lists every command)");
      w.flush();
      return ExitCodes.USAGE;
    }
    Command command = commands.get(ns.getString(COMMAND_KEY));
    try {
      return command.run(ns, console);
    } catch (UsageException e) {
      PrintWriter w = writer(console);
      w.print(subparserUsage(command));
      w.println(program + " " + command.name() + ": error: " + e.getMessage());
      w.println("(" + program + " " + command.name() + " --help lists every option)");
      w.flush();
      return ExitCodes.USAGE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      console.err().println(program + " " + command.name() + ": interrupted");
      return ExitCodes.INTERRUPTED;
    } catch (Exception e) {
      return errors.applyAsInt(e, console);
    }
  }

  /** {@code loraflow --help}: the command list (both jars), then the epilog. */
  public String help() {
    StringBuilder b = new StringBuilder();
    b.append("usage: ").append(program).append(" <command> [options]\n\n");
    if (description != null) {
      b.append(wrap(description, HELP_WIDTH, "")).append("\n\n");
    }
    b.append("commands (").append(program).append(" <command> --help for its options):\n");
    int column = 2;
    for (String n : names()) {
      column = Math.max(column, n.length() + 4);
    }
    List<String[]> rows = new ArrayList<>();
    commands.values().forEach(c -> rows.add(new String[] {c.name(), c.summary()}));
    elsewhere.values().forEach(e -> rows.add(new String[] {e.name(), e.summary()}));
    for (String[] row : rows) {
      String indent = " ".repeat(column + 2);
      String text = wrap(row[1], HELP_WIDTH - column - 2, indent).stripLeading();
      b.append("  ").append(String.format(Locale.ROOT, "%-" + column + "s", row[0])).append(text);
      b.append('\n');
    }
    if (epilog != null) {
      b.append('\n').append(wrap(epilog, HELP_WIDTH, "")).append('\n');
    }
    b.append('\n').append(wrap(ExitCodes.HELP, HELP_WIDTH, "")).append('\n');
    return b.toString();
  }

  /** {@code loraflow <name> --help}, as argparse4j formats it. */
  public String help(String name) {
    ArgumentParser root = parser();
    try {
      root.parseArgs(new String[] {name, "--help"});
    } catch (HelpRequested h) {
      return h.getParser().formatHelp();
    } catch (ArgumentParserException e) {
      throw new IllegalArgumentException("no command '" + name + "'", e);
    }
    throw new IllegalStateException("--help did not stop the parser");
  }

  private List<String> names() {
    List<String> names = new ArrayList<>(commands.keySet());
    names.addAll(elsewhere.keySet());
    return names;
  }

  private ArgumentParser parser() {
    ArgumentParser root =
        ArgumentParsers.newFor(program)
            .addHelp(false)
            .locale(Locale.ENGLISH)
            .terminalWidthDetection(false)
            .defaultFormatWidth(HELP_WIDTH)
            .build()
            .description(description);
    Subparsers subparsers = root.addSubparsers().title("commands").metavar("<command>");
    for (Command c : commands.values()) {
      Subparser p =
          subparsers
              .addParser(c.name(), false)
              .help(c.summary())
              .description(c.description())
              .defaultHelp(true)
              .setDefault(COMMAND_KEY, c.name());
      p.addArgument("-h", "--help").action(new HelpAction()).help("show this help and exit");
      c.configure(p);
      if (c.epilog() != null) {
        p.epilog(c.epilog());
      }
    }
    // the other jar's commands take part in "did you mean" (their own parser is over there)
    for (Elsewhere e : elsewhere.values()) {
      subparsers.addParser(e.name(), false).help(e.summary());
    }
    return root;
  }

  private String subparserUsage(Command command) {
    try {
      parser().parseArgs(new String[] {command.name(), "--help"});
    } catch (HelpRequested h) {
      return h.getParser().formatUsage();
    } catch (ArgumentParserException e) {
      return "";
    }
    return "";
  }

  private static String commandWord(String[] args) {
    return args.length > 0 && !args[0].startsWith("-") ? args[0] : "";
  }

  private static PrintWriter writer(Console console) {
    return new PrintWriter(
        new java.io.OutputStreamWriter(console.err(), StandardCharsets.UTF_8), true);
  }

  /**
   * Greedy word wrap of each paragraph line of {@code text}; continuation lines get {@code indent}.
   */
  static String wrap(String text, int width, String indent) {
    StringBuilder out = new StringBuilder();
    for (String paragraph : text.split("\n", -1)) {
      if (out.length() > 0) {
        out.append('\n');
      }
      // keep a paragraph's own leading spaces (indented examples)
      int lead = 0;
      while (lead < paragraph.length() && paragraph.charAt(lead) == ' ') {
        lead++;
      }
      String own = paragraph.substring(0, lead);
      StringBuilder line = new StringBuilder(own);
      for (String word : paragraph.substring(lead).split(" ")) {
        if (line.length() > own.length() && line.length() + 1 + word.length() > width) {
          out.append(line).append('\n');
          line.setLength(0);
          line.append(indent).append(own);
        } else if (line.length() > own.length()) {
          line.append(' ');
        }
        line.append(word);
      }
      out.append(line);
    }
    return out.toString();
  }

  /** {@code -h/--help}: stops parsing (even with required arguments missing) and shows help. */
  private static final class HelpAction implements ArgumentAction {
    @Override
    public void run(
        ArgumentParser parser, Argument arg, Map<String, Object> attrs, String flag, Object value)
        throws ArgumentParserException {
      throw new HelpRequested(parser);
    }

    @Override
    public void onAttach(Argument arg) {}

    @Override
    public boolean consumeArgument() {
      return false;
    }
  }

  private static final class HelpRequested extends ArgumentParserException {
    HelpRequested(ArgumentParser parser) {
      super("help requested", parser);
    }
  }
}
