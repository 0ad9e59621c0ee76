package io.loraflow.gpu.cli;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.loraflow.activities.cpu.AdapterRegistry.ModelVersion;
import io.loraflow.activities.prompts.PromptTemplate;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import io.loraflow.commandline.UsageException;
import io.loraflow.engine.generate.GenerationConfig;
import io.loraflow.engine.generate.Generator;
import io.loraflow.engine.generate.TokenCodec;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.session.ModelSession;
import io.loraflow.engine.tokenizer.TextTokenizer;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.infra.StackEnvFile;
import io.loraflow.infra.StackSettings;
import io.loraflow.infra.TemporalConnection;
import io.loraflow.infra.mlflow.MlflowRest;
import io.loraflow.infra.mlflow.ModelRegistry;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.StorageKeys;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowStub;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code chat --adapter <run-id|registry-version>}: talk to a fine-tuned adapter on this machine.
 *
 * <p>The adapter is found by run id ({@code finetune-...}) or by registered version ({@code
 * models:/<name>/<version>}, {@code <name>@champion}, ...; MLflow's {@code loraflow.workflow_id}
 * tag names the run). The run's base model and adapter are downloaded from MinIO once (cache under
 * {@code $LORAFLOW_CACHE_DIR/chat}, default {@code ~/.cache/loraflow/chat}); the prompt uses the
 * run's own template, so the adapter sees what it was trained on. Greedy by default; answers stream
 * as they are generated. Status lines (what is loaded, downloads) go to stderr, so stdout carries
 * only the answers.
 */
final class ChatCommand implements Command {

  /**
   * {@code models:/<name>/<version>} or {@code models:/<name>@<alias>} or {@code <name>@<alias>}.
   */
  private static final Pattern VERSION = Pattern.compile("(?:models:/)?([^/@]+)/(\\d+)");

  private static final Pattern ALIAS = Pattern.compile("(?:models:/)?([^/@]+)@([A-Za-z0-9_-]+)");

  @Override
  public String name() {
    return "chat";
  }

  @Override
  public String summary() {
    return "talk to a fine-tuned adapter (run id or registered version) on this machine";
  }

  @Override
  public String epilog() {
    return "examples:\n"
        + "  loraflow chat --adapter finetune-faq-1 --prompt \"How do I return an item?\"\n"
        + "  loraflow chat --adapter loraflow-smollm2-135m-instruct@champion\n"
        + "  loraflow chat --adapter models:/loraflow-smollm2-135m-instruct/3 --base";
  }

  @Override
  public void configure(Subparser p) {
    p.addArgument("--adapter")
        .required(true)
        .metavar("REF")
        .help("run id (finetune-...), models:/<name>/<version>, or <name>@<alias>");
    p.addArgument("--prompt")
        .metavar("Q")
        .help("answer this one question and exit (else: read questions from stdin)");
    p.addArgument("--base")
        .action(Arguments.storeTrue())
        .help("answer with the run's base model, without the adapter");
    p.addArgument("--max-new-tokens").type(Integer.class).setDefault(128).help("answer budget");
    p.addArgument("--temperature")
        .type(Double.class)
        .setDefault(0.0)
        .help("0 = greedy; > 0 samples (top-p 0.9, top-k 50, seed 42)");
    p.addArgument("--device").choices("cpu", "gpu").setDefault("cpu").help("where to generate");
  }

  @Override
  public int run(Namespace a, Console console) throws Exception {
    int maxNew = a.getInt("max_new_tokens");
    double temperature = a.getDouble("temperature");
    if (maxNew < 1 || !(temperature >= 0)) {
      throw new UsageException(
          "--max-new-tokens must be >= 1 and --temperature >= 0, got "
              + maxNew
              + " and "
              + temperature);
    }
    String adapter = a.getString("adapter");
    PrintStream out = console.out();
    PrintStream err = console.err();
    Map<String, String> env = envWithStateDir(console.env());
    StackSettings stack = StackSettings.load(env);
    String runId = resolveRun(adapter, stack);
    FineTuneResult result = completedResult(runId, stack);
    Path cache = cacheDir(env).resolve("chat");
    BaseModelRef model = result.model();
    Path modelDir = cache.resolve("models").resolve(model.storageName());
    Path adapterDir = cache.resolve("adapters").resolve(runId);
    try (ObjectStore store = ObjectStore.connect(stack)) {
      PrefixPublisher publisher = new PrefixPublisher(store);
      fetchOnce(publisher, StorageKeys.modelPrefix(model.storageName()), modelDir, err);
      fetchOnce(publisher, result.train().adapterKey(), adapterDir, err);
    }
    String rel = model.modelKey().substring(StorageKeys.modelPrefix(model.storageName()).length());
    Path weights = rel.isEmpty() ? modelDir : modelDir.resolve(rel);
    PromptTemplate template =
        PromptTemplate.resolve(result.spec().template(), model.chatTemplate());
    Device device = "gpu".equals(a.getString("device")) ? Device.gpu() : Device.cpu();
    GenerationConfig generation =
        (temperature > 0
                ? GenerationConfig.sampling(maxNew, temperature, 0.9, 50, 42)
                : GenerationConfig.greedy(maxNew))
            .withEosTokenIds(model.eosTokenIds());
    boolean base = a.getBoolean("base");

    try (ModelFiles files = ModelFiles.open(weights);
        TextTokenizer tok = files.tokenizer();
        ModelSession session =
            ModelSession.withAdapter(files, adapterDir, DataType.FLOAT32, device)) {
      if (!base) {
        session.useAdapter();
      }
      TokenCodec codec = TokenCodec.of(s -> tok.encode(s, false), ids -> tok.decode(ids, true));
      Generator generator = new Generator(session.model(), device, codec);
      String what =
          (base ? "the base model of " : "the adapter of ")
              + runId
              + " ("
              + model.baseModel()
              + ", template "
              + template.name()
              + ")";
      String oneShot = a.getString("prompt");
      if (oneShot != null) {
        err.println("answering with " + what);
        answer(generator, codec, template, generation, oneShot, out);
        return ExitCodes.OK;
      }
      err.println("chatting with " + what + "; empty line or Ctrl-D ends");
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      while (true) {
        err.print("> ");
        err.flush();
        String line = in.readLine();
        if (line == null || line.isBlank()) {
          return ExitCodes.OK;
        }
        answer(generator, codec, template, generation, line.strip(), out);
      }
    }
  }

  private static void answer(
      Generator generator,
      TokenCodec codec,
      PromptTemplate template,
      GenerationConfig generation,
      String question,
      PrintStream out) {
    long[] prompt = codec.encode(template.prompt(question));
    generator.generate(
        List.of(prompt),
        generation,
        (sequence, tokenId, delta) -> {
          out.print(delta);
          out.flush();
        });
    out.println();
  }

  /**
   * The run id behind {@code adapter}: itself, or the {@code loraflow.workflow_id} tag of the
   * registered version it names.
   */
  static String resolveRun(String adapter, StackSettings stack) {
    Matcher version = VERSION.matcher(adapter);
    Matcher alias = ALIAS.matcher(adapter);
    boolean byVersion = version.matches();
    boolean byAlias = !byVersion && alias.matches();
    if (!byVersion && !byAlias) {
      if (adapter.contains("/") || adapter.contains("@")) {
        throw new UsageException(
            "--adapter '"
                + adapter
                + "' is neither a run id nor a registered version"
                + " (models:/<name>/<version> or <name>@<alias>)");
      }
      return adapter;
    }
    ModelRegistry registry = new ModelRegistry(new MlflowRest(stack.mlflowUri()));
    ModelVersion ref =
        (byVersion
                ? registry.version(version.group(1), version.group(2))
                : registry.versionByAlias(alias.group(1), alias.group(2)))
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "no registered version "
                            + adapter
                            + " in MLflow at "
                            + stack.mlflowUri()
                            + " (loraflow adapters lists them)"));
    String runId = ref.tags().get(io.loraflow.infra.mlflow.Tracking.WORKFLOW_TAG);
    if (runId == null || runId.isBlank()) {
      throw new IllegalArgumentException(
          adapter
              + " (version "
              + ref.version()
              + ") has no "
              + io.loraflow.infra.mlflow.Tracking.WORKFLOW_TAG
              + " tag, so no loraflow run registered it; use a run id");
    }
    return runId;
  }

  /** The result of a COMPLETED run; a clear error for one that is running, failed or unknown. */
  private static FineTuneResult completedResult(String runId, StackSettings stack) {
    try (TemporalConnection temporal = TemporalConnection.open(stack, Duration.ofSeconds(10))) {
      WorkflowStub stub = temporal.client().newUntypedWorkflowStub(runId);
      FineTuneResult result;
      try {
        result = stub.getResult(5, TimeUnit.SECONDS, FineTuneResult.class);
      } catch (TimeoutException e) {
        throw new IllegalArgumentException(
            "run '" + runId + "' is still running; chat needs a COMPLETED run", e);
      } catch (WorkflowNotFoundException e) {
        throw new IllegalArgumentException("no run '" + runId + "' in Temporal", e);
      } catch (WorkflowFailedException e) {
        throw new IllegalArgumentException(
            "run '"
                + runId
                + "' did not complete ("
                + e.getMessage()
                + "); chat needs a COMPLETED run",
            e);
      }
      if (result == null || result.train() == null || result.model() == null) {
        throw new IllegalArgumentException("run '" + runId + "' has no adapter");
      }
      return result;
    }
  }

  private static void fetchOnce(PrefixPublisher publisher, String prefix, Path dir, PrintStream err)
      throws IOException {
    Path marker = dir.resolve(".complete");
    if (Files.isRegularFile(marker)) {
      return;
    }
    err.println("downloading " + prefix + " -> " + dir);
    publisher.download(
        prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix, dir);
    Files.writeString(marker, prefix);
  }

  private static Path cacheDir(Map<String, String> env) {
    String dir = env.get("LORAFLOW_CACHE_DIR");
    return dir != null && !dir.isBlank()
        ? Path.of(dir)
        : Path.of(System.getProperty("user.home"), ".cache", "loraflow");
  }

  /** StackSettings reads the state dir's stack.env; name the one this command line uses. */
  private static Map<String, String> envWithStateDir(Map<String, String> env) {
    Map<String, String> copy = new HashMap<>(env);
    copy.putIfAbsent(StackEnvFile.STATE_DIR, StackEnvFile.stateDir(env).toString());
    return copy;
  }
}
