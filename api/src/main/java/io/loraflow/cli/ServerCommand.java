package io.loraflow.cli;

import io.loraflow.api.LoraflowApplication;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.Console;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/** {@code server [config.yml]}: the REST API (Dropwizard) until stopped. */
final class ServerCommand implements Command {

  @Override
  public String name() {
    return "server";
  }

  @Override
  public String summary() {
    return "the REST API until stopped (needs LORAFLOW_API_TOKEN)";
  }

  @Override
  public String description() {
    return "Runs the Dropwizard REST service (POST /v1/runs, GET /v1/runs/{id}, ...) until Ctrl-C"
        + " or SIGTERM. Its settings come from the config file, whose ${LORAFLOW_*} references are"
        + " filled from the environment, then from the stack's stack.env.";
  }

  @Override
  public void configure(Subparser p) {
    p.addArgument("config")
        .nargs("?")
        .setDefault(LoraflowApplication.DEFAULT_CONFIG)
        .help("Dropwizard YAML config (a file, or the built-in one)");
  }

  @Override
  public int run(Namespace args, Console console) throws Exception {
    new LoraflowApplication().run("server", args.getString("config"));
    return 0;
  }

  @Override
  public boolean longRunning() {
    return true;
  }
}
