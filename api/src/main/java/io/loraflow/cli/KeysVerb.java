package io.loraflow.cli;

import io.loraflow.api.auth.KeysCommand;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code keys add|list|revoke}: the REST service's API key file from the command line (the same
 * arguments and code as the server jar's Dropwizard {@code keys} command, {@link KeysCommand}). No
 * stack needed: keys live in a local file that the server re-reads.
 */
final class KeysVerb implements Command {

  @Override
  public String name() {
    return "keys";
  }

  @Override
  public String summary() {
    return "REST API keys: add (printed once), list, revoke; stored as SHA-256 with a scope";
  }

  @Override
  public String epilog() {
    return "examples:\n  loraflow keys add --id ci-bot --scope write\n  loraflow keys list\n"
        + "  loraflow keys revoke --id ci-bot\n"
        + "scopes: read (GET endpoints), write (also start, cancel, retrain, try), admin"
        + " (everything, and the admin port from another host)";
  }

  @Override
  public void configure(Subparser p) {
    KeysCommand.configureArguments(p);
  }

  @Override
  public int run(Namespace a, Console console) throws Exception {
    KeysCommand.manage(a, console.env(), console.out(), console.err());
    return ExitCodes.OK;
  }
}
