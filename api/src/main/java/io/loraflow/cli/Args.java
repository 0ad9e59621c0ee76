package io.loraflow.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Hand-written argument parsing: positionals, {@code --flag}, {@code --key value} and {@code
 * --key=value}. Every option must be declared, so a typo is an error that names it.
 */
public final class Args {

  private final List<String> positionals = new ArrayList<>();
  private final Map<String, String> values = new HashMap<>();
  private final Set<String> flags = new HashSet<>();

  private Args() {}

  /**
   * Parses {@code args} for a command.
   *
   * @param command the command name, for error messages
   * @param valued options that take a value, e.g. {@code --reason}
   * @param booleans options without a value, e.g. {@code --follow}
   */
  public static Args parse(
      String command, List<String> args, Set<String> valued, Set<String> booleans) {
    Args a = new Args();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (arg.equals("--")) {
        a.positionals.addAll(args.subList(i + 1, args.size()));
        break;
      }
      if (!arg.startsWith("--") || arg.length() == 2) {
        a.positionals.add(arg);
        continue;
      }
      int eq = arg.indexOf('=');
      String name = eq > 0 ? arg.substring(0, eq) : arg;
      if (booleans.contains(name) && eq < 0) {
        a.flags.add(name);
      } else if (valued.contains(name)) {
        String value;
        if (eq > 0) {
          value = arg.substring(eq + 1);
        } else if (i + 1 < args.size()) {
          value = args.get(++i);
        } else {
          throw new UsageException(command + ": option " + name + " needs a value");
        }
        a.values.put(name, value);
      } else {
        Set<String> known = new java.util.TreeSet<>(valued);
        known.addAll(booleans);
        throw new UsageException(
            command
                + ": unknown option '"
                + name
                + "'"
                + (known.isEmpty() ? "" : "; known: " + known));
      }
    }
    return a;
  }

  public List<String> positionals() {
    return positionals;
  }

  /** The single positional argument, or a usage error naming what was expected. */
  public String onePositional(String command, String what) {
    if (positionals.size() != 1) {
      throw new UsageException(
          command
              + ": expected one "
              + what
              + ", got "
              + (positionals.isEmpty() ? "none" : positionals));
    }
    return positionals.get(0);
  }

  public String value(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  public boolean flag(String name) {
    return flags.contains(name);
  }

  /** Bad command line: printed with the command's usage, exit code 2. */
  public static final class UsageException extends RuntimeException {
    public UsageException(String message) {
      super(message);
    }
  }
}
