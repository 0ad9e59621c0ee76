package io.loraflow.cli;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.loraflow.activities.prompts.PromptTemplate;
import io.loraflow.api.api.RunView;
import io.loraflow.api.core.RunService;
import io.loraflow.api.core.VersionSelector;
import io.loraflow.engine.generate.GenerationConfig;
import io.loraflow.engine.generate.Generator;
import io.loraflow.engine.generate.TokenCodec;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.session.ModelSession;
import io.loraflow.engine.tokenizer.TextTokenizer;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.infra.StackSettings;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.StorageKeys;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code chat --adapter <run-id|registry-version>}: talk to a fine-tuned adapter on this machine.
 *
 * <p>The adapter is found by run id ({@code finetune-...}) or by registered version ({@code
 * models:/<name>/<version>}, {@code <name>@champion}, ...; MLflow's {@code loraflow.workflow_id}
 * tag names the run). The run's base model and adapter are downloaded from MinIO once (cache under
 * {@code $LORAFLOW_CACHE_DIR/chat}, default {@code ~/.cache/loraflow/chat}); the prompt uses the
 * run's own template, so the adapter sees what it was trained on. Greedy by default; answers stream
 * as they are generated.
 */
final class ChatCommand {

  private final RunService runs;
  private final PrintStream out;

  ChatCommand(RunService runs, PrintStream out) {
    this.runs = runs;
    this.out = out;
  }

  int run(List<String> argv) throws IOException {
    Args a =
        Args.parse(
            "chat",
            argv,
            Set.of("--adapter", "--prompt", "--max-new-tokens", "--temperature", "--device"),
            Set.of("--base"));
    String adapter = a.value("--adapter", null);
    if (adapter == null) {
      throw new Args.UsageException("chat: --adapter <run-id|registry-version> is required");
    }
    String runId = resolveRun(adapter);
    RunView view = runs.describe(runId);
    FineTuneResult result = view.result();
    if (result == null || result.train() == null || result.model() == null) {
      throw new IllegalArgumentException(
          "run '"
              + runId
              + "' is "
              + view.status()
              + " and has no adapter yet; chat needs a COMPLETED run");
    }
    StackSettings stack = StackSettings.load(envWithStateDir());
    Path cache = cacheDir().resolve("chat");
    BaseModelRef model = result.model();
    Path modelDir = cache.resolve("models").resolve(model.storageName());
    Path adapterDir = cache.resolve("adapters").resolve(runId);
    try (ObjectStore store = ObjectStore.connect(stack)) {
      PrefixPublisher publisher = new PrefixPublisher(store);
      fetchOnce(publisher, StorageKeys.modelPrefix(model.storageName()), modelDir);
      fetchOnce(publisher, result.train().adapterKey(), adapterDir);
    }
    String rel = model.modelKey().substring(StorageKeys.modelPrefix(model.storageName()).length());
    Path weights = rel.isEmpty() ? modelDir : modelDir.resolve(rel);
    PromptTemplate template =
        PromptTemplate.resolve(result.spec().template(), model.chatTemplate());
    Device device = "gpu".equals(a.value("--device", "cpu")) ? Device.gpu() : Device.cpu();
    GenerationConfig generation = generationConfig(a).withEosTokenIds(model.eosTokenIds());

    try (ModelFiles files = ModelFiles.open(weights);
        TextTokenizer tok = files.tokenizer();
        ModelSession session =
            ModelSession.withAdapter(files, adapterDir, DataType.FLOAT32, device)) {
      CausalLM lm = session.model();
      if (!a.flag("--base")) {
        session.useAdapter();
      }
      TokenCodec codec = TokenCodec.of(s -> tok.encode(s, false), ids -> tok.decode(ids, true));
      Generator generator = new Generator(lm, device, codec);
      out.println(
          "chatting with "
              + (a.flag("--base") ? "the base model of " : "the adapter of ")
              + runId
              + " ("
              + model.baseModel()
              + ", template "
              + template.name()
              + "); empty line or Ctrl-D ends");
      String oneShot = a.value("--prompt", null);
      if (oneShot != null) {
        answer(generator, codec, template, generation, oneShot);
        return 0;
      }
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      while (true) {
        out.print("> ");
        out.flush();
        String line = in.readLine();
        if (line == null || line.isBlank()) {
          return 0;
        }
        answer(generator, codec, template, generation, line.strip());
      }
    }
  }

  private void answer(
      Generator generator,
      TokenCodec codec,
      PromptTemplate template,
      GenerationConfig generation,
      String question) {
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

  /** Run id from a run id or a registered version (MLflow tag loraflow.workflow_id). */
  String resolveRun(String adapter) {
    VersionSelector ref =
        adapter.contains("/") || adapter.contains("@")
            ? VersionSelector.parseOrNull(adapter)
            : null;
    if (ref == null) {
      return adapter;
    }
    java.net.URI mlflow = runs.links().mlflow();
    return new io.loraflow.api.core.AdapterCatalog(
            new io.loraflow.infra.mlflow.ModelRegistry(
                new io.loraflow.infra.mlflow.MlflowRest(mlflow)),
            mlflow)
        .workflowIdOf(ref);
  }

  private static GenerationConfig generationConfig(Args a) {
    int maxNew = Integer.parseInt(a.value("--max-new-tokens", "128"));
    double temperature = Double.parseDouble(a.value("--temperature", "0"));
    return temperature > 0
        ? GenerationConfig.sampling(maxNew, temperature, 0.9, 50, 42)
        : GenerationConfig.greedy(maxNew);
  }

  private void fetchOnce(PrefixPublisher publisher, String prefix, Path dir) {
    Path marker = dir.resolve(".complete");
    if (Files.isRegularFile(marker)) {
      return;
    }
    out.println("downloading " + prefix + " -> " + dir);
    publisher.download(
        prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix, dir);
    try {
      Files.writeString(marker, prefix);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Path cacheDir() {
    String dir = System.getenv("LORAFLOW_CACHE_DIR");
    return dir != null && !dir.isBlank()
        ? Path.of(dir)
        : Path.of(System.getProperty("user.home"), ".cache", "loraflow");
  }

  /** StackSettings reads ./.state unless told; give it the state dir this CLI uses. */
  private static java.util.Map<String, String> envWithStateDir() {
    java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
    env.putIfAbsent(
        StackSettings.STATE_DIR,
        io.loraflow.api.StackEnvLookup.stateDir(System.getenv()).toString());
    return env;
  }
}
