package io.loraflow.engine.generate;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.session.ModelSession;
import io.loraflow.engine.tokenizer.ChatMessage;
import io.loraflow.engine.tokenizer.TextTokenizer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code loraflow generate}: loads a model (HF directory or GGUF), continues one prompt, streams
 * the text to stdout and reports speed on stderr.
 */
public final class GenerateCommand {

  static final String USAGE =
      "usage: generate --model <dir|file.gguf> --prompt \"...\" [--chat] [--max-new-tokens N]\n"
          + "                [--temperature T] [--top-p P] [--top-k K] [--repetition-penalty R]\n"
          + "                [--seed S] [--stop STR]... [--dtype fp32|fp16] [--device cpu|gpu]\n"
          + "  greedy unless --temperature > 0; --chat wraps the prompt in the model's chat template";

  /** Parsed command line. */
  record Options(
      Path model,
      String prompt,
      boolean chat,
      GenerationConfig generation,
      DataType dtype,
      Device device) {}

  private GenerateCommand() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command; returns the process exit code (0 ok, 2 usage error, 1 failure). */
  public static int run(String[] args) {
    return run(args, new PrintStream(System.out, true, StandardCharsets.UTF_8), System.err);
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    Options options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      err.println("generate: " + e.getMessage());
      err.println(USAGE);
      return 2;
    }
    try {
      generate(options, out, err);
      return 0;
    } catch (RuntimeException e) {
      err.println("generate: " + e.getMessage());
      return 1;
    }
  }

  static Options parse(String[] args) {
    Path model = null;
    String prompt = null;
    boolean chat = false;
    int maxNew = 128;
    double temperature = 0;
    double topP = 1.0;
    int topK = 0;
    double penalty = 1.0;
    long seed = 0;
    List<String> stops = new ArrayList<>();
    String dtype = null;
    String device = "cpu";
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--chat")) {
        chat = true;
        continue;
      }
      if (a.equals("-h") || a.equals("--help")) {
        throw new IllegalArgumentException("help requested");
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("missing value after " + a);
      }
      String v = args[++i];
      switch (a) {
        case "--model" -> model = Path.of(v);
        case "--prompt" -> prompt = v;
        case "--max-new-tokens" -> maxNew = parseInt(a, v);
        case "--temperature" -> temperature = parseDouble(a, v);
        case "--top-p" -> topP = parseDouble(a, v);
        case "--top-k" -> topK = parseInt(a, v);
        case "--repetition-penalty" -> penalty = parseDouble(a, v);
        case "--seed" -> seed = Long.parseLong(v);
        case "--stop" -> stops.add(v);
        case "--dtype" -> dtype = v;
        case "--device" -> device = v;
        default -> throw new IllegalArgumentException("unknown option " + a);
      }
    }
    if (model == null) {
      throw new IllegalArgumentException("--model is required");
    }
    if (prompt == null) {
      throw new IllegalArgumentException("--prompt is required");
    }
    if (!Files.exists(model)) {
      throw new IllegalArgumentException("--model " + model + ": no such file or directory");
    }
    if (temperature < 0) {
      throw new IllegalArgumentException("--temperature must be >= 0, got " + temperature);
    }
    Device dev =
        switch (device) {
          case "cpu" -> Device.cpu();
          case "gpu", "cuda" -> Device.gpu();
          default ->
              throw new IllegalArgumentException("--device must be cpu or gpu, got " + device);
        };
    DataType type =
        switch (dtype == null ? (dev.isGpu() ? "fp16" : "fp32") : dtype) {
          case "fp32" -> DataType.FLOAT32;
          case "fp16" -> DataType.FLOAT16;
          default ->
              throw new IllegalArgumentException("--dtype must be fp32 or fp16, got " + dtype);
        };
    boolean greedy = temperature == 0;
    GenerationConfig generation =
        new GenerationConfig(
            maxNew,
            greedy,
            greedy ? 1.0 : temperature,
            topP,
            topK,
            penalty,
            seed,
            stops,
            List.of());
    return new Options(model, prompt, chat, generation, type, dev);
  }

  private static int parseInt(String option, String v) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " needs an integer, got '" + v + "'");
    }
  }

  private static double parseDouble(String option, String v) {
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " needs a number, got '" + v + "'");
    }
  }

  private static void generate(Options o, PrintStream out, PrintStream err) {
    long loadStart = System.nanoTime();
    try (ModelFiles files = ModelFiles.open(o.model());
        TextTokenizer tokenizer = files.tokenizer();
        ModelSession session = ModelSession.plain(files, o.dtype(), o.device())) {
      CausalLM model = session.model();
      double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
      long[] ids;
      if (o.chat()) {
        String rendered = tokenizer.applyChatTemplate(List.of(ChatMessage.user(o.prompt())), true);
        ids = tokenizer.encode(rendered, false);
      } else {
        ids = tokenizer.encode(o.prompt(), true);
      }
      GenerationConfig config = o.generation().withEosTokenIds(tokenizer.eosTokenIds());
      TokenCodec codec =
          TokenCodec.of(t -> tokenizer.encode(t, true), t -> tokenizer.decode(t, true));
      GenerationResult result =
          new Generator(model, o.device(), codec)
              .generate(List.of(ids), config, (seq, id, delta) -> out.print(delta));
      out.println();
      out.flush();
      Generation g = result.sequences().get(0);
      err.printf(
          "[%s, %s on %s] load %.1f s | prompt %d tokens, prefill %.0f ms | %d tokens in %.2f s"
              + " = %.1f tokens/s (decode only %.1f tokens/s) | stop: %s%n",
          o.model().getFileName(),
          o.dtype() == DataType.FLOAT16 ? "fp16" : "fp32",
          o.device(),
          loadSeconds,
          g.promptTokens(),
          result.prefillNanos() / 1e6,
          g.tokens().length,
          (result.prefillNanos() + result.decodeNanos()) / 1e9,
          result.tokensPerSecond(),
          result.decodeSteps() / Math.max(1e-9, result.decodeNanos() / 1e9),
          g.finish());
    }
  }
}
