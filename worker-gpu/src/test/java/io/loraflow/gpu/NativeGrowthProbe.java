package io.loraflow.gpu;

import ai.djl.Device;
import io.loraflow.engine.train.Example;
import io.loraflow.engine.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Does native memory grow per training session? Opens {@link EngineSession} on a model directory
 * RUNS times (load, LoRA, 2 optimizer steps, close) in one JVM and prints, every EVERY sessions
 * after a GC: RSS split into anonymous and file-backed memory, and how many mappings of the model's
 * files are still in the address space.
 *
 * <pre>java -cp ... io.loraflow.gpu.NativeGrowthProbe MODEL_DIR RUNS EVERY</pre>
 */
public final class NativeGrowthProbe {
  private NativeGrowthProbe() {}

  public static void main(String[] args) throws Exception {
    Path model = Path.of(args[0]);
    int runs = Integer.parseInt(args[1]);
    int every = Integer.parseInt(args[2]);
    String parts = args.length > 3 ? args[3] : "train"; // any of train, tok, gen (comma-separated)
    TrainConfig.Builder b = TrainConfig.defaults().toBuilder();
    b.epochs = 1;
    b.batchSize = 2;
    b.maxSeqLen = 32;
    b.precision = TrainConfig.Precision.FP32;
    b.checkpointEvery = 0;
    TrainConfig config = b.build();
    List<Example> data = new ArrayList<>();
    Random rng = new Random(3);
    for (int i = 0; i < 4; i++) {
      long[] ids = new long[12];
      long[] labels = new long[12];
      for (int t = 0; t < 12; t++) {
        ids[t] = 3 + rng.nextInt(200);
        labels[t] = t < 6 ? Example.IGNORE : ids[t];
      }
      data.add(new Example(ids, labels));
    }
    Path work = Files.createTempDirectory("native-growth");
    report(0, model);
    for (int r = 1; r <= runs; r++) {
      if (parts.contains("train")) {
        try (EngineSession s =
            EngineSession.open(
                model,
                config,
                data,
                work.resolve("ckpt-" + r),
                "probe",
                null,
                null,
                Device.cpu())) {
          s.trainer.run();
        }
      }
      if (parts.contains("tok") || parts.contains("gen")) {
        try (io.loraflow.engine.io.ModelFiles files = io.loraflow.engine.io.ModelFiles.open(model);
            io.loraflow.engine.tokenizer.TextTokenizer tok = files.tokenizer()) {
          long[] ids = tok.encode("How do I track my order? It has not arrived yet.", true);
          if (parts.contains("gen")) {
            try (io.loraflow.engine.session.ModelSession m =
                io.loraflow.engine.session.ModelSession.plain(
                    files, ai.djl.ndarray.types.DataType.FLOAT32, Device.cpu())) {
              var g =
                  new io.loraflow.engine.generate.Generator(m.model(), Device.cpu(), null)
                      .generate(
                          List.of(ids),
                          io.loraflow.engine.generate.GenerationConfig.greedy(16),
                          (batch, id, text) -> {});
              tok.decode(g.sequences().get(0).tokens(), true);
            }
          }
        }
      }
      if (r % every == 0) {
        report(r, model);
      }
    }
  }

  static void report(int run, Path model) throws Exception {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(300); // the Cleaner thread unmaps and frees after the collection
    }
    String status = Files.readString(Path.of("/proc/self/status"));
    String maps = Files.readString(Path.of("/proc/self/maps"));
    String dir = model.toAbsolutePath().toString();
    long mapped = maps.lines().filter(l -> l.contains(dir)).count();
    Runtime rt = Runtime.getRuntime();
    System.out.printf(
        "{\"run\":%d,%s,%s,%s,\"model_mappings\":%d,\"heap_used_mb\":%d}%n",
        run,
        field(status, "VmRSS"),
        field(status, "RssAnon"),
        field(status, "RssFile"),
        mapped,
        (rt.totalMemory() - rt.freeMemory()) >> 20);
  }

  static String field(String status, String key) {
    String line =
        status.lines().filter(l -> l.startsWith(key + ":")).findFirst().orElse(key + ": -1 kB");
    String kb = line.replaceAll("[^0-9]", "");
    return "\"" + key + "_mb\":" + (Long.parseLong(kb) >> 10);
  }
}
