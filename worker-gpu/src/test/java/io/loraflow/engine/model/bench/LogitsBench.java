package io.loraflow.engine.model.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.io.Safetensors;
import io.loraflow.engine.model.AttentionStep;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.model.DenseLinear;
import io.loraflow.engine.model.Models;
import java.nio.file.Path;
import java.util.Map;

/**
 * Our logits for a directory made by bench/model/compare_logits.py: loads the HF model in {@code
 * DIR/hf}, reads {@code DIR/inputs.safetensors} (input_ids, attention_mask, position_ids), runs one
 * forward and writes {@code ours_<dtype>.safetensors} (logits as fp32) next to it.
 *
 * <pre>
 * java -cp ... io.loraflow.engine.model.bench.LogitsBench --dir DIR [--device gpu|cpu]
 *     [--dtype fp32|fp16]...
 * </pre>
 */
public final class LogitsBench {

  public static void main(String[] args) {
    Path dir = null;
    Device device = Device.gpu();
    java.util.List<String> dtypes = new java.util.ArrayList<>();
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--dir" -> dir = Path.of(args[i + 1]);
        case "--device" -> device = args[i + 1].equals("cpu") ? Device.cpu() : Device.gpu();
        case "--dtype" -> dtypes.add(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (dir == null) {
      throw new IllegalArgumentException("--dir is required");
    }
    if (dtypes.isEmpty()) {
      dtypes = java.util.List.of("fp32", "fp16");
    }
    for (String name : dtypes) {
      DataType dtype = name.equals("fp16") ? DataType.FLOAT16 : DataType.FLOAT32;
      long start = System.nanoTime();
      try (ModelFiles files = ModelFiles.open(dir.resolve("hf"));
          CausalLM model =
              Models.build(files.weights(), DenseLinear.factory(dtype, device), dtype, device);
          NDManager m = NDManager.newBaseManager(device)) {
        double load = (System.nanoTime() - start) / 1e9;
        Map<String, NDArray> in = Safetensors.readAll(dir.resolve("inputs.safetensors"), m);
        NDArray ids = in.get("input_ids").toDevice(device, false);
        NDArray mask = in.get("attention_mask").toDevice(device, false);
        NDArray positions = in.get("position_ids").toDevice(device, false);
        NDArray logits = model.forward(ids, new AttentionStep(positions, mask, null)); // warm-up
        long t0 = System.nanoTime();
        logits = model.forward(ids, new AttentionStep(positions, mask, null));
        NDArray out = logits.toType(DataType.FLOAT32, false).toDevice(Device.cpu(), false);
        double forwardMs = (System.nanoTime() - t0) / 1e6;
        Path file = dir.resolve("ours_" + name + ".safetensors");
        Safetensors.write(
            file, Map.of("logits", out), Map.of("forward_ms", String.valueOf(forwardMs)));
        System.out.printf(
            "%s %s on %s: load %.1f s, forward %s %.1f ms -> %s%n",
            dir.getFileName(), name, device, load, ids.getShape(), forwardMs, file);
      }
    }
  }
}
