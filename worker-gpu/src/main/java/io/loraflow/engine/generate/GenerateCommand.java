package io.loraflow.engine.generate;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.loraflow.commandline.Command;
import io.loraflow.commandline.CommandLine;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import io.loraflow.commandline.UsageException;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.session.ModelSession;
import io.loraflow.engine.tokenizer.ChatMessage;
import io.loraflow.engine.tokenizer.TextTokenizer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code loraflow generate}: loads a model (HF directory or GGUF), continues one prompt, streams
 * the text to stdout and reports speed on stderr.
 */
public final class GenerateCommand implements Command {

  /** Parsed command line. */
  record Options(
      Path model,
      String prompt,
      boolean chat,
      GenerationConfig generation,
      DataType dtype,
      Device device) {}

  @Override
  public String name() {
    return "generate";
  }

  @Override
  public String summary() {
    return "generate text with the engine from a model directory or GGUF file";
  }

  @Override
  public String description() {
    return "Loads a model (HF directory or GGUF file), continues one prompt, streams the text to"
        + " stdout and reports speed on stderr. Greedy unless --temperature > 0.";
  }

  @Override
  public String epilog() {
    return "examples:\n"
        + "  loraflow generate --model SmolLM2-135M-Instruct.Q4_1.gguf --prompt \"What is"
        + " QLoRA?\" --chat\n"
        + "  loraflow generate --model llama-dir/ --prompt \"Once upon\" --temperature 0.8"
        + " --top-p 0.9 --stop \"\\n\\n\"";
  }

  @Override
  public void configure(Subparser p) {
    p.addArgument("--model").required(true).metavar("DIR|FILE.gguf").help("the model");
    p.addArgument("--prompt").required(true).help("text to continue");
    p.addArgument("--chat")
        .action(Arguments.storeTrue())
        .help("wrap the prompt in the model's chat template");
    p.addArgument("--max-new-tokens").type(Integer.class).setDefault(128).help("token budget");
    p.addArgument("--temperature").type(Double.class).setDefault(0.0).help("0 = greedy");
    p.addArgument("--top-p").type(Double.class).setDefault(1.0).help("nucleus sampling, (0, 1]");
    p.addArgument("--top-k").type(Integer.class).setDefault(0).help("0 = off");
    p.addArgument("--repetition-penalty").type(Double.class).setDefault(1.0).help("1 = off");
    p.addArgument("--seed").type(Long.class).setDefault(0L).help("sampling seed");
    p.addArgument("--stop")
        .action(Arguments.append())
        .metavar("STR")
        .help("stop when the text contains STR (repeatable)");
    p.addArgument("--dtype")
        .choices("fp32", "fp16")
        .help("weights and compute (default fp16 on GPU, fp32 on CPU)");
    p.addArgument("--device").choices("cpu", "gpu", "cuda").setDefault("cpu").help("device");
  }

  @Override
  public int run(Namespace args, Console console) {
    Options options;
    try {
      options = options(args);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    try {
      generate(
          options, new PrintStream(console.out(), true, StandardCharsets.UTF_8), console.err());
      return ExitCodes.OK;
    } catch (RuntimeException e) {
      console.err().println("loraflow generate: " + e.getMessage());
      return ExitCodes.FAILED;
    }
  }

  /** {@code java -cp ... GenerateCommand ARGS} (bench scripts): the same as loraflow generate. */
  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** {@code loraflow generate ARGS} on these streams; returns the exit code (0, 1, 2). */
  static int run(String[] args, PrintStream out, PrintStream err) {
    return CommandLine.single(new GenerateCommand())
        .execute(args, new Console(out, err, System.getenv()));
  }

  /** The options {@code args} (without the command name) ask for. */
  static Options parse(String[] args) {
    return options(CommandLine.parse(new GenerateCommand(), args));
  }

  private static Options options(Namespace a) {
    Path model = Path.of(a.getString("model"));
    if (!Files.exists(model)) {
      throw new IllegalArgumentException("--model " + model + ": no such file or directory");
    }
    double temperature = a.getDouble("temperature");
    if (temperature < 0) {
      throw new IllegalArgumentException("--temperature must be >= 0, got " + temperature);
    }
    Device dev = a.getString("device").equals("cpu") ? Device.cpu() : Device.gpu();
    String dtype = a.getString("dtype");
    DataType type =
        (dtype == null ? (dev.isGpu() ? "fp16" : "fp32") : dtype).equals("fp16")
            ? DataType.FLOAT16
            : DataType.FLOAT32;
    List<String> stops = a.getList("stop");
    boolean greedy = temperature == 0;
    GenerationConfig generation =
        new GenerationConfig(
            a.getInt("max_new_tokens"),
            greedy,
            greedy ? 1.0 : temperature,
            a.getDouble("top_p"),
            a.getInt("top_k"),
            a.getDouble("repetition_penalty"),
            a.getLong("seed"),
            stops == null ? List.of() : stops,
            List.of());
    return new Options(model, a.getString("prompt"), a.getBoolean("chat"), generation, type, dev);
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
