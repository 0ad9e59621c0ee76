package io.loraflow.api.auth;

import io.dropwizard.core.cli.Command;
import io.dropwizard.core.setup.Bootstrap;
import io.loraflow.api.StackEnvLookup;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;
import net.sourceforge.argparse4j.inf.Subparsers;

/**
 * {@code keys add --id <id> --scope read|write|admin}, {@code keys list}, {@code keys revoke --id
 * <id>}: manages the API key file (default {@link #defaultFile}). {@code add} prints the new key
 * once; the file keeps only its SHA-256.
 */
public final class KeysCommand extends Command {

  private final PrintStream out;

  public KeysCommand() {
    this(System.out);
  }

  KeysCommand(PrintStream out) {
    super("keys", "manage REST API keys (stored as SHA-256 hashes with a scope)");
    this.out = out;
  }

  /** LORAFLOW_API_KEYS, else {@code <state dir>/api-keys.json}. */
  public static Path defaultFile(Map<String, String> env) {
    String configured = new StackEnvLookup(env).lookup("LORAFLOW_API_KEYS");
    return configured != null && !configured.isBlank()
        ? Path.of(configured)
        : StackEnvLookup.stateDir(env).resolve("api-keys.json");
  }

  @Override
  public void configure(Subparser subparser) {
    configureArguments(subparser);
  }

  /**
   * The arguments of {@code keys}: {@code [--file F] add --id ID --scope S | list | revoke --id ID}
   * (shared by this Dropwizard command and the {@code loraflow keys} verb).
   */
  public static void configureArguments(Subparser subparser) {
    subparser
        .addArgument("--file")
        .help("key file (default: $LORAFLOW_API_KEYS or <state>/api-keys.json)");
    Subparsers actions = subparser.addSubparsers().dest("action").title("actions");
    Subparser add = actions.addParser("add").help("create a key and print it once");
    add.addArgument("--id")
        .required(true)
        .help("who or what uses the key (1-64 of A-Z a-z 0-9 . _ -)");
    add.addArgument("--scope")
        .required(true)
        .choices("read", "write", "admin")
        .help("read: GET endpoints; write: also start/cancel/retrain/try; admin: everything");
    actions.addParser("list").help("list key ids and scopes (never the keys)");
    Subparser revoke =
        actions.addParser("revoke").help("remove a key; it stops working within a second");
    revoke.addArgument("--id").required(true);
  }

  @Override
  public void run(Bootstrap<?> bootstrap, Namespace ns) throws Exception {
    manage(ns, System.getenv(), out, System.err);
  }

  /**
   * Carries out the parsed {@code keys} arguments: the new key (add) or the key list goes to {@code
   * out}, what happened to {@code err}; the key file is {@code --file}, else {@link
   * #defaultFile(Map) defaultFile(env)}.
   *
   * @throws IllegalArgumentException for a revoke of an unknown id (nothing changes)
   */
  public static void manage(Namespace ns, Map<String, String> env, PrintStream out, PrintStream err)
      throws IOException {
    Path file = ns.getString("file") != null ? Path.of(ns.getString("file")) : defaultFile(env);
    ApiKeyStore store = new ApiKeyStore(file, Clock.systemUTC());
    switch (ns.getString("action")) {
      case "add" -> {
        ApiKeyStore.Added added = store.add(ns.getString("id"), Scope.parse(ns.getString("scope")));
        out.println(added.secret());
        err.println(
            "key '"
                + added.key().id()
                + "' ("
                + added.key().scope().wire()
                + ") added to "
                + file
                + "; this is the only time it is shown. Send it as 'Authorization: Bearer <key>'.");
      }
      case "list" -> {
        for (ApiKey k : store.list()) {
          out.println(k.id() + "\t" + k.scope().wire() + "\t" + k.createdAt());
        }
      }
      case "revoke" -> {
        if (!store.revoke(ns.getString("id"))) {
          throw new IllegalArgumentException("no key '" + ns.getString("id") + "' in " + file);
        }
        err.println("key '" + ns.getString("id") + "' revoked in " + file);
      }
      default -> throw new IllegalArgumentException("keys: expected add, list or revoke");
    }
  }
}
