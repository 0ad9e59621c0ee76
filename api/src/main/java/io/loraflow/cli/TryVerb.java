package io.loraflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.loraflow.api.api.TryAdapterRequest;
import io.loraflow.api.api.TryAdapterResponse;
import io.loraflow.api.core.AdapterTrials;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import io.loraflow.commandline.UsageException;
import java.io.PrintStream;
import java.util.Locale;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code try ADAPTER --prompt Q}: the adapter answers one prompt on a GPU worker of the stack, the
 * same {@link AdapterTrials} service (TryAdapter workflow, generation on the GPU queue) as {@code
 * POST /v1/adapters/try}, with the same bounds. Unlike the engine's {@code chat}, nothing is loaded
 * on this machine.
 */
final class TryVerb implements Command {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final StackSession.Opener stack;

  TryVerb(StackSession.Opener stack) {
    this.stack = stack;
  }

  @Override
  public String name() {
    return "try";
  }

  @Override
  public String summary() {
    return "an adapter answers one prompt on a GPU worker of the stack (as POST /v1/adapters/try)";
  }

  @Override
  public String epilog() {
    return "ADAPTER is a completed run id or a registered version; the prompt is put into that"
        + " run's template.\n"
        + "examples:\n"
        + "  loraflow try finetune-faq-1 --prompt \"How long does shipping take?\"\n"
        + "  loraflow try loraflow-smollm2-135m-instruct@champion --prompt \"Can I return it?\""
        + " --temperature 0.7 --seed 3\n"
        + "(waits at most "
        + AdapterTrials.WAIT.toMinutes()
        + " minutes for a GPU worker; `loraflow chat` answers on this machine instead)";
  }

  @Override
  public void configure(Subparser p) {
    p.addArgument("adapter")
        .metavar("ADAPTER")
        .help("run id (finetune-...) or <name>@<alias>, <name>/<version>, models:/<name>@<alias>");
    p.addArgument("--prompt").required(true).metavar("TEXT").help("the question");
    p.addArgument("--max-new-tokens")
        .type(Integer.class)
        .choices(Arguments.range(1, AdapterTrials.MAX_NEW_TOKENS))
        .setDefault(64)
        .help("at most this many new tokens (1-" + AdapterTrials.MAX_NEW_TOKENS + ")");
    p.addArgument("--temperature")
        .type(Double.class)
        .choices(Arguments.range(0.0, AdapterTrials.MAX_TEMPERATURE))
        .setDefault(0.0)
        .help("0 = greedy; up to " + AdapterTrials.MAX_TEMPERATURE + " samples");
    p.addArgument("--seed").type(Long.class).setDefault(42L).help("sampling seed");
    p.addArgument("--json").action(Arguments.storeTrue()).help("as the API returns it");
  }

  @Override
  public int run(Namespace a, Console console) throws Exception {
    String adapter = a.getString("adapter").strip();
    String prompt = a.getString("prompt");
    if (adapter.isEmpty() || adapter.length() > AdapterTrials.MAX_ADAPTER_CHARS) {
      throw new UsageException(
          "ADAPTER must be 1-" + AdapterTrials.MAX_ADAPTER_CHARS + " characters");
    }
    if (prompt.isBlank() || prompt.length() > AdapterTrials.MAX_PROMPT_CHARS) {
      throw new UsageException(
          "--prompt must be non-blank and at most "
              + AdapterTrials.MAX_PROMPT_CHARS
              + " characters, got "
              + prompt.length());
    }
    TryAdapterRequest request =
        new TryAdapterRequest(
            adapter,
            prompt,
            a.getInt("max_new_tokens"),
            a.getDouble("temperature"),
            a.getLong("seed"));
    try (StackSession s = stack.open(console.env())) {
      TryAdapterResponse r = s.services().trials().tryAdapter(request);
      if (a.getBoolean("json")) {
        console.out().println(JSON.writeValueAsString(r));
      } else {
        print(r, console.out());
      }
    }
    return ExitCodes.OK;
  }

  static void print(TryAdapterResponse r, PrintStream out) {
    out.println(r.answer());
    out.printf(
        Locale.ROOT,
        "(%s on %s: %d prompt tokens, %d new, %s, %.1f s; %s)%n",
        r.runId(),
        r.baseModel(),
        r.promptTokens(),
        r.newTokens(),
        r.stoppedAtEos() ? "stopped at the end token" : "hit --max-new-tokens",
        r.seconds(),
        r.tryId());
  }
}
