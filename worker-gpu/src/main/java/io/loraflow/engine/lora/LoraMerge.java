package io.loraflow.engine.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.io.Safetensors;
import io.loraflow.engine.io.WeightSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Folds a LoRA adapter into its base for export: W' = W + scaling * (B @ A), written as an fp16
 * safetensors file through {@link Safetensors}, one tensor at a time (a 7B base never sits in
 * memory whole), atomically.
 */
public final class LoraMerge {

  private LoraMerge() {}

  /** scaling * (B @ A): (out, r) x (r, in) -> (out, in) float32, in B's manager. */
  public static NDArray delta(NDArray loraA, NDArray loraB, double scaling) {
    return loraB
        .toType(DataType.FLOAT32, false)
        .matMul(loraA.toType(DataType.FLOAT32, false))
        .mul((float) scaling);
  }

  /** W + delta for one weight; the sum is formed in float32 and returned as {@code dtype}. */
  public static NDArray merge(
      NDArray weight, NDArray loraA, NDArray loraB, double scaling, DataType dtype) {
    return weight
        .toType(DataType.FLOAT32, false)
        .add(delta(loraA, loraB, scaling))
        .toType(dtype, false);
  }

  /**
   * Writes every tensor of {@code base} to {@code out} as fp16, with each adapter module's delta
   * added to its ".weight".
   */
  public static void export(WeightSource base, PeftAdapter adapter, Path out) {
    for (String module : adapter.loraA().keySet()) {
      if (!base.names().contains(module + ".weight")) {
        throw new IllegalArgumentException(
            "adapter module "
                + module
                + " has no weight "
                + module
                + ".weight in "
                + base.description());
      }
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      List<Safetensors.Pending> tensors = new ArrayList<>();
      for (String name : new TreeSet<>(base.names())) {
        tensors.add(
            new Safetensors.Pending(
                name,
                DataType.FLOAT16,
                base.shape(name).getShape(),
                () -> mergedHalf(base, adapter, name, manager)));
      }
      Safetensors.write(out, tensors, Map.of("format", "pt"));
    }
  }

  /** One merged tensor as little-endian fp16 bytes, computed in its own sub-manager. */
  private static ByteBuffer mergedHalf(
      WeightSource base, PeftAdapter adapter, String name, NDManager manager) {
    try (NDManager step = manager.newSubManager()) {
      NDArray w = base.load(name, step, DataType.FLOAT32);
      String module =
          name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : null;
      NDArray result;
      if (module != null && adapter.loraA().containsKey(module)) {
        NDArray a = adapter.loraA().get(module);
        NDArray b = adapter.loraB().get(module);
        a.tempAttach(step);
        b.tempAttach(step);
        result = merge(w, a, b, adapter.config().scaling(), DataType.FLOAT16);
      } else {
        result = w.toType(DataType.FLOAT16, false);
      }
      // copied out of the array's memory, which the sub-manager frees on return
      ByteBuffer direct = result.toByteBuffer();
      ByteBuffer copy = ByteBuffer.allocate(direct.remaining()).order(ByteOrder.LITTLE_ENDIAN);
      return copy.put(direct).flip();
    }
  }
}
