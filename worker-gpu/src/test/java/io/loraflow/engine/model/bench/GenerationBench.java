package io.loraflow.engine.model.bench;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.generate.GenerationConfig;
import io.loraflow.engine.generate.GenerationResult;
import io.loraflow.engine.generate.Generator;
import io.loraflow.engine.generate.TokenListener;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.model.DenseLinear;
import io.loraflow.engine.model.Models;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Greedy generation speed of our engine on one model (HF dir or GGUF): fixed random prompt ids (the
 * same formula as bench/model/generate_speed.py uses for transformers), EOS disabled so every run
 * produces exactly --new tokens.
 *
 * <pre>
 * java -cp ... io.loraflow.engine.model.bench.GenerationBench --model DIR|FILE.gguf
 *     [--device cpu|gpu] [--dtype fp32|fp16] [--batch 1] [--prompt-len 32] [--new 64] [--runs 3]
 * </pre>
 *
 * Prints one JSON line per run and a final summary line (best run).
 */
public final class GenerationBench {

  /** The prompt both engines use: 3 + (j * 7919 + b * 104729) mod (min(V, 32000) - 3). */
  static long[] promptIds(int b, int length, int vocab) {
    long[] p = new long[length];
    for (int j = 0; j < length; j++) {
      p[j] = 3 + ((long) j * 7919 + (long) b * 104729) % (Math.min(vocab, 32000) - 3);
    }
    return p;
  }

  public static void main(String[] args) {
    Path model = null;
    String device = "cpu";
    String dtype = null;
    int batch = 1;
    int promptLen = 32;
    int newTokens = 64;
    int runs = 3;
    for (int i = 0; i < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--model" -> model = Path.of(v);
        case "--device" -> device = v;
        case "--dtype" -> dtype = v;
        case "--batch" -> batch = Integer.parseInt(v);
        case "--prompt-len" -> promptLen = Integer.parseInt(v);
        case "--new" -> newTokens = Integer.parseInt(v);
        case "--runs" -> runs = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (model == null) {
      throw new IllegalArgumentException("--model is required");
    }
    Device dev = device.equals("cpu") ? Device.cpu() : Device.gpu();
    DataType type =
        (dtype == null ? (dev.isGpu() ? "fp16" : "fp32") : dtype).equals("fp16")
            ? DataType.FLOAT16
            : DataType.FLOAT32;
    long t0 = System.nanoTime();
    try (ModelFiles files = ModelFiles.open(model);
        CausalLM lm = Models.build(files.weights(), DenseLinear.factory(type, dev), type, dev)) {
      double load = (System.nanoTime() - t0) / 1e9;
      int vocab = lm.config().vocabSize();
      List<long[]> prompts = new ArrayList<>();
      for (int b = 0; b < batch; b++) {
        prompts.add(promptIds(b, promptLen, vocab));
      }
      GenerationConfig config =
          GenerationConfig.greedy(newTokens).withEosTokenIds(List.of(vocab + 1));
      Generator generator = new Generator(lm, dev, null);
      generator.generate(
          prompts,
          GenerationConfig.greedy(4).withEosTokenIds(List.of(vocab + 1)),
          TokenListener.NONE); // warm-up
      double best = 0;
      long[] first = null;
      for (int r = 0; r < runs; r++) {
        GenerationResult result = generator.generate(prompts, config, TokenListener.NONE);
        first = result.sequences().get(0).tokens();
        double seconds = (result.prefillNanos() + result.decodeNanos()) / 1e9;
        double tps = result.generatedTokens() / seconds;
        best = Math.max(best, tps);
        System.out.printf(
            "{\"engine\":\"loraflow\",\"run\":%d,\"batch\":%d,\"prompt_len\":%d,\"new_tokens\":%d,"
                + "\"seconds\":%.3f,\"prefill_ms\":%.1f,\"tokens_per_s\":%.2f}%n",
            r, batch, promptLen, newTokens, seconds, result.prefillNanos() / 1e6, tps);
      }
      System.out.printf(
          "loraflow %s %s %s: load %.1f s, best %.2f generated tokens/s (batch %d, prompt %d, new %d)%n",
          model.getFileName(), dev, type, load, best, batch, promptLen, newTokens);
      System.out.println(
          "greedy tokens of sequence 0: "
              + java.util.Arrays.toString(
                  java.util.Arrays.copyOf(first, Math.min(16, first.length))));
    }
  }
}
