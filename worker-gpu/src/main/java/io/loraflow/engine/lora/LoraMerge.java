package io.loraflow.engine.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.io.WeightSource;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Folds a LoRA adapter into its base for export: W' = W + scaling * (B @ A), written as an fp16
 * safetensors file, one tensor at a time (a 7B base never sits in memory whole).
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
   * Writes every tensor of {@code base} to {@code out} as fp16 (floating tensors; others keep their
   * dtype), with each adapter module's delta added to its ".weight".
   */
  public static void export(WeightSource base, PeftAdapter adapter, Path out) throws IOException {
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
    List<String> names = new ArrayList<>(new java.util.TreeSet<>(base.names()));
    StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
    long offset = 0;
    for (String name : names) {
      Shape shape = base.shape(name);
      long bytes = shape.size() * 2;
      header.append(",\"").append(name).append("\":{\"dtype\":\"F16\",\"shape\":[");
      long[] dims = shape.getShape();
      for (int i = 0; i < dims.length; i++) {
        header.append(i == 0 ? "" : ",").append(dims[i]);
      }
      header
          .append("],\"data_offsets\":[")
          .append(offset)
          .append(',')
          .append(offset + bytes)
          .append("]}");
      offset += bytes;
    }
    header.append('}');
    byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    byte[] headerBytes = new byte[padded];
    java.util.Arrays.fill(headerBytes, (byte) ' ');
    System.arraycopy(json, 0, headerBytes, 0, json.length);
    Files.createDirectories(out.toAbsolutePath().getParent());
    try (OutputStream os = Files.newOutputStream(out);
        NDManager manager = NDManager.newBaseManager()) {
      os.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
      os.write(headerBytes);
      for (String name : names) {
        try (NDManager step = manager.newSubManager()) {
          NDArray w = base.load(name, step, DataType.FLOAT32);
          String module =
              name.endsWith(".weight")
                  ? name.substring(0, name.length() - ".weight".length())
                  : null;
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
          os.write(result.toByteArray());
        }
      }
    }
  }
}
