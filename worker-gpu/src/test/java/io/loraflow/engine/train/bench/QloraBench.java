package io.loraflow.engine.train.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.lora.BaseFormat;
import io.loraflow.engine.lora.LoraLinearFactory;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.model.ModelConfig;
import io.loraflow.engine.model.Models;
import io.loraflow.engine.nativeops.FastOps;
import io.loraflow.engine.quant.Nf4Tensor;
import io.loraflow.engine.train.Example;
import io.loraflow.engine.train.LinearModules;
import io.loraflow.engine.train.MemoryProbe;
import io.loraflow.engine.train.StepMetrics;
import io.loraflow.engine.train.TrainConfig;
import io.loraflow.engine.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * QLoRA step speed and memory of our engine on a model-shaped network with random weights that are
 * generated on the device and quantized to NF4 there, one matrix at a time.
 *
 * <pre>
 * java -cp ... io.loraflow.engine.train.bench.QloraBench --shape falcon-7b|llama-70b|tiny|llama-tiny
 *     [--device gpu] [--batch 1] [--seq 256] [--steps 6] [--r 16] [--targets query_key_value]
 *     [--layers N] [--precision fp16|fp32] [--no-grad-checkpointing] [--optimizer adamw8bit|adamw]
 *     [--profile trace.json] [--absmax-cache] [--plain] [--no-blocks] [--lora-node] [--no-cuda-graphs] [--warmup 2]
 * </pre>
 *
 * The data is the same formula bench/train/qlora_speed.py uses (ids 3 + (j * 7919 + b * 104729) mod
 * (min(V, 32000) - 3), every position supervised). Steps after the first {@code --warmup} are
 * timed. Prints one JSON line per step and a summary line: median and mean step seconds, tokens/s
 * of the median step, device memory after loading and at the end (cudaMemGetInfo used bytes, i.e.
 * what PyTorch's caching allocator holds, which bounds its peak), torch's max allocated bytes over
 * the timed steps (with the native library only), NF4 dequantizations per step and per layer, and
 * which path ran (GPU fast path or plain DJL ops; {@code --plain} forces the latter).
 */
public final class QloraBench {

  private QloraBench() {}

  public static ModelConfig shape(String name, int layers) {
    return switch (name) {
      case "falcon-7b" ->
          new ModelConfig(
              ModelConfig.Family.FALCON,
              65024,
              4544,
              18176,
              layers > 0 ? layers : 32,
              71,
              1,
              64,
              2048,
              1e-5,
              10000,
              null,
              true,
              false,
              false,
              false,
              new ModelConfig.FalconLayout(true, false, 1),
              0,
              "gelu",
              11,
              List.of(11));
      case "llama-70b" ->
          new ModelConfig(
              ModelConfig.Family.LLAMA,
              128256,
              8192,
              28672,
              layers > 0 ? layers : 80,
              64,
              8,
              128,
              8192,
              1e-5,
              500000,
              null,
              false,
              false,
              false,
              false,
              null,
              0,
              "silu",
              128000,
              List.of(128001));
      case "llama-3-8b" ->
          new ModelConfig(
              ModelConfig.Family.LLAMA,
              128256,
              4096,
              14336,
              layers > 0 ? layers : 32,
              32,
              8,
              128,
              8192,
              1e-5,
              500000,
              null,
              false,
              false,
              false,
              false,
              null,
              0,
              "silu",
              128000,
              List.of(128001));
      case "smollm2-135m" ->
          new ModelConfig(
              ModelConfig.Family.LLAMA,
              49152,
              576,
              1536,
              layers > 0 ? layers : 30,
              9,
              3,
              64,
              8192,
              1e-5,
              100000,
              null,
              true,
              false,
              false,
              false,
              null,
              0,
              "silu",
              1,
              List.of(2));
      case "llama-small" -> // GQA Llama for the fast-vs-plain checks (FastPathCheck)
          new ModelConfig(
              ModelConfig.Family.LLAMA,
              2048,
              512,
              1024,
              layers > 0 ? layers : 4,
              8,
              2,
              64,
              2048,
              1e-5,
              10000,
              null,
              false,
              false,
              false,
              false,
              null,
              0,
              "silu",
              1,
              List.of(2));
      case "falcon-small" -> // Falcon-7B layout (multi-query, parallel attention) made small
          new ModelConfig(
              ModelConfig.Family.FALCON,
              2048,
              512,
              2048,
              layers > 0 ? layers : 4,
              8,
              1,
              64,
              2048,
              1e-5,
              10000,
              null,
              true,
              false,
              false,
              false,
              new ModelConfig.FalconLayout(true, false, 1),
              0,
              "gelu",
              1,
              List.of(2));
      case "tiny" ->
          new ModelConfig(
              ModelConfig.Family.FALCON,
              512,
              256,
              1024,
              layers > 0 ? layers : 2,
              4,
              1,
              64,
              512,
              1e-5,
              10000,
              null,
              true,
              false,
              false,
              false,
              new ModelConfig.FalconLayout(true, false, 1),
              0,
              "gelu",
              1,
              List.of(2));
      case "llama-tiny" ->
          new ModelConfig(
              ModelConfig.Family.LLAMA,
              512,
              256,
              512,
              layers > 0 ? layers : 2,
              4,
              2,
              64,
              512,
              1e-5,
              500000,
              null,
              false,
              false,
              false,
              false,
              null,
              0,
              "silu",
              1,
              List.of(2));
      default ->
          throw new IllegalArgumentException(
              "--shape must be falcon-7b, llama-70b, llama-3-8b, smollm2-135m, tiny or llama-tiny,"
                  + " got "
                  + name);
    };
  }

  public static void main(String[] args) throws Exception {
    String shapeName = "falcon-7b";
    String device = "gpu";
    int batch = 1;
    int seq = 256;
    int steps = 6;
    int layers = 0;
    String profile = null;
    boolean absmaxCache = false;
    int warmup = 2; // untimed steps (kernel selection, allocator growth)
    TrainConfig.Builder b = TrainConfig.defaults().toBuilder();
    b.checkpointEvery = 0;
    b.loraDropout = 0.05;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--no-grad-checkpointing")) {
        b.gradientCheckpointing = false;
        continue;
      }
      if (a.equals("--no-cuda-graphs")) {
        System.setProperty(FastOps.GRAPHS_PROPERTY, "off"); // eager micro-steps on the fast path
        continue;
      }
      if (a.equals("--lora-node")) {
        FastOps.setLoraNode(true); // LoRA as one custom autograd node instead of ATen ops
        continue;
      }
      if (a.equals("--no-blocks")) {
        FastOps.setBlocksEnabled(false); // single fused ops, no whole-block native calls
        continue;
      }
      if (a.equals("--plain")) {
        FastOps.setEnabled(false); // the pure-DJL reference path even where the library loaded
        continue;
      }
      if (a.equals("--absmax-cache")) {
        absmaxCache = true; // keep the decoded fp16 block absmax (+0.031 bytes per parameter)
        continue;
      }
      String v = args[++i];
      switch (a) {
        case "--shape" -> shapeName = v;
        case "--device" -> device = v;
        case "--batch" -> batch = Integer.parseInt(v);
        case "--seq" -> seq = Integer.parseInt(v);
        case "--steps" -> steps = Integer.parseInt(v);
        case "--layers" -> layers = Integer.parseInt(v);
        case "--profile" -> profile = v;
        case "--warmup" -> warmup = Integer.parseInt(v);
        case "--r" -> {
          b.loraR = Integer.parseInt(v);
          b.loraAlpha = 2.0 * b.loraR;
        }
        case "--targets" -> b.targetModules = List.of(v.split(","));
        case "--precision" ->
            b.precision =
                v.equals("fp32") ? TrainConfig.Precision.FP32 : TrainConfig.Precision.FP16;
        case "--optimizer" ->
            b.optimizer =
                v.equals("adamw")
                    ? TrainConfig.OptimizerKind.ADAMW
                    : TrainConfig.OptimizerKind.ADAMW_8BIT;
        default -> throw new IllegalArgumentException("unknown option " + a);
      }
    }
    b.batchSize = batch;
    b.maxSeqLen = seq;
    ModelConfig config = shape(shapeName, layers);
    Device dev = device.equals("gpu") ? Device.gpu() : Device.cpu();
    DataType dtype =
        b.precision == TrainConfig.Precision.FP16 ? DataType.FLOAT16 : DataType.FLOAT32;
    // enough rows for `steps` optimizer steps of one micro-batch each
    List<Example> data = new ArrayList<>();
    for (int row = 0; row < batch * steps; row++) {
      long[] ids = new long[seq];
      for (int j = 0; j < seq; j++) {
        ids[j] =
            3
                + ((long) j * 7919 + (long) (row % batch) * 104729)
                    % (Math.min(config.vocabSize(), 32000) - 3);
      }
      data.add(new Example(ids, ids.clone()));
    }
    b.warmupRatio = 0;
    TrainConfig train = b.build();
    RandomWeightSource source = new RandomWeightSource(config);
    long memStart = MemoryProbe.bytesInUse(dev);
    try (NDManager owner = NDManager.newBaseManager(dev)) {
      LoraLinearFactory factory =
          new LoraLinearFactory(
              train.lora(train.resolvedTargets(config.family())),
              BaseFormat.NF4,
              dtype,
              owner,
              train.seed());
      long t0 = System.nanoTime();
      try (CausalLM model = Models.build(source, factory, dtype, dev)) {
        factory.requireAllTargetsMatched();
        long absmaxCacheBytes = factory.cacheDecodedAbsmax(absmaxCache);
        double loadSeconds = (System.nanoTime() - t0) / 1e9;
        if (dev.isGpu()) {
          ai.djl.pytorch.jni.JniUtils.emptyCudaCache(); // drop the quantizer's cached temporaries
        }
        long memLoaded = MemoryProbe.bytesInUse(dev);
        long params = 0;
        for (String m : LinearModules.of(source)) {
          params += source.shape(m + ".weight").size();
        }
        System.out.printf(
            Locale.ROOT,
            "{\"event\":\"loaded\",\"shape\":\"%s\",\"layers\":%d,"
                + "\"linear_params\":%d,\"frozen_linear_bytes\":%d,\"bytes_per_param\":%.4f,"
                + "\"lora_modules\":%d,\"load_s\":%.1f,\"mem_start\":%d,\"mem_loaded\":%d,"
                + "\"absmax_cache_bytes\":%d}%n",
            shapeName,
            config.numLayers(),
            params,
            factory.baseBytes(),
            (double) factory.baseBytes() / params,
            factory.loraModules().size(),
            loadSeconds,
            memStart,
            memLoaded,
            absmaxCacheBytes);
        String path = FastOps.describe(dev);
        System.out.printf(
            Locale.ROOT,
            "{\"event\":\"path\",\"fast\":%b,\"line\":\"%s\"}%n",
            path.startsWith("GPU fast path on"),
            path.replace("\"", "'"));
        Path tmp = Files.createTempDirectory("qlora-bench");
        List<String> linears = new ArrayList<>(model.linears().keySet());
        try (Trainer trainer =
            new Trainer(
                model, factory.loraModules(), linears, train, data, tmp, "random-" + shapeName)) {
          List<StepMetrics> timed = new ArrayList<>();
          long[] dequant = {Nf4Tensor.dequantizations()};
          int totalLayers = config.numLayers();
          String traceFile = profile; // chrome trace of step 3 (torch profiler), or null
          int warmupSteps = warmup;
          trainer.addProgressListener(
              m -> {
                long now = Nf4Tensor.dequantizations();
                System.out.printf(
                    Locale.ROOT,
                    "{\"event\":\"step\",\"step\":%d,\"loss\":%.4f,"
                        + "\"tokens_per_s\":%.1f,\"step_s\":%.3f,\"grad_norm\":%.4f,"
                        + "\"loss_scale\":%.0f,\"skipped\":%b,\"mem\":%d,"
                        + "\"dequant_per_step\":%d,\"dequant_per_layer\":%.2f}%n",
                    m.step(),
                    m.loss(),
                    m.tokensPerSecond(),
                    (double) train.batchSize() * train.maxSeqLen() / m.tokensPerSecond(),
                    m.gradNorm(),
                    m.lossScale(),
                    m.skipped(),
                    m.memoryBytes(),
                    now - dequant[0],
                    (now - dequant[0]) / (double) totalLayers);
                dequant[0] = now;
                if (m.step() == warmupSteps && dev.isGpu()) {
                  FastOps.memoryStats(0, true); // peaks over the timed steps only
                }
                if (m.step() > warmupSteps) {
                  timed.add(m);
                }
                if (traceFile != null && m.step() == 2) {
                  ai.djl.pytorch.jni.JniUtils.startProfile(dev.isGpu(), true, true);
                } else if (traceFile != null && m.step() == 3) {
                  ai.djl.pytorch.jni.JniUtils.stopProfile(traceFile);
                }
              });
          trainer.run();
          double tokensPerStep = (double) train.batchSize() * train.maxSeqLen();
          double[] seconds =
              timed.stream()
                  .mapToDouble(m -> tokensPerStep / m.tokensPerSecond())
                  .sorted()
                  .toArray();
          double median =
              seconds.length == 0
                  ? Double.NaN
                  : seconds.length % 2 == 1
                      ? seconds[seconds.length / 2]
                      : (seconds[seconds.length / 2 - 1] + seconds[seconds.length / 2]) / 2;
          double mean = java.util.Arrays.stream(seconds).average().orElse(Double.NaN);
          long memEnd = MemoryProbe.bytesInUse(dev);
          long[] stats = dev.isGpu() ? FastOps.memoryStats(0, false) : null;
          System.out.printf(
              Locale.ROOT,
              "{\"event\":\"summary\",\"engine\":\"loraflow-%s\","
                  + "\"shape\":\"%s\",\"batch\":%d,\"seq\":%d,\"grad_checkpointing\":%b,"
                  + "\"timed_steps\":%d,\"tokens_per_s\":%.1f,\"step_s\":%.4f,"
                  + "\"step_s_mean\":%.4f,\"mem_loaded_gib\":%.2f,"
                  + "\"mem_end_gib\":%.2f,\"mem_start_gib\":%.2f,\"max_allocated_gib\":%s}%n",
              path.startsWith("GPU fast path on") ? "fast" : "djl",
              shapeName,
              batch,
              seq,
              train.gradientCheckpointing(),
              seconds.length,
              batch * seq / median,
              median,
              mean,
              memLoaded / 1073741824.0,
              memEnd / 1073741824.0,
              memStart / 1073741824.0,
              stats == null ? "null" : String.format(Locale.ROOT, "%.2f", stats[1] / 1073741824.0));
        }
      }
    }
  }
}
