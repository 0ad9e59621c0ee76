package io.loraflow.engine.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Minimal safetensors read/write for adapter-sized files (LoRA weights, checkpoints, test
 * fixtures): 8-byte little-endian header length, JSON header {name: {dtype, shape, data_offsets}},
 * then the raw little-endian data. Tensors are written in name order, so equal tensors give equal
 * bytes. Whole-model files go through the io package's reader instead.
 */
public final class AdapterSafetensors {

  private static final Gson GSON = new Gson();

  private AdapterSafetensors() {}

  /** Writes {@code tensors} (any device) to {@code file}, with optional string metadata. */
  public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata)
      throws IOException {
    Map<String, NDArray> sorted = new TreeMap<>(tensors);
    JsonObject header = new JsonObject();
    if (metadata != null && !metadata.isEmpty()) {
      JsonObject meta = new JsonObject();
      metadata.forEach(meta::addProperty);
      header.add("__metadata__", meta);
    }
    long offset = 0;
    Map<String, byte[]> data = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : sorted.entrySet()) {
      NDArray a = e.getValue();
      byte[] bytes = a.toByteArray();
      JsonObject entry = new JsonObject();
      entry.addProperty("dtype", code(a.getDataType(), e.getKey()));
      com.google.gson.JsonArray shape = new com.google.gson.JsonArray();
      for (long d : a.getShape().getShape()) {
        shape.add(d);
      }
      entry.add("shape", shape);
      com.google.gson.JsonArray offsets = new com.google.gson.JsonArray();
      offsets.add(offset);
      offsets.add(offset + bytes.length);
      entry.add("data_offsets", offsets);
      header.add(e.getKey(), entry);
      data.put(e.getKey(), bytes);
      offset += bytes.length;
    }
    byte[] json = GSON.toJson(header).getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8; // align data to 8 bytes, padding with spaces
    byte[] headerBytes = new byte[padded];
    java.util.Arrays.fill(headerBytes, (byte) ' ');
    System.arraycopy(json, 0, headerBytes, 0, json.length);
    Files.createDirectories(file.toAbsolutePath().getParent());
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
      out.write(headerBytes);
      for (byte[] bytes : data.values()) {
        out.write(bytes);
      }
    }
  }

  /** Reads every tensor of {@code file} into {@code manager}, in file order. */
  public static Map<String, NDArray> read(Path file, NDManager manager) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, len, file);
      long headerLength = len.flip().getLong();
      if (headerLength <= 0 || headerLength > 100_000_000L || headerLength + 8 > ch.size()) {
        throw new IOException(
            file + ": not a safetensors file (header length " + headerLength + ")");
      }
      ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLength);
      readFully(ch, headerBuf, file);
      JsonObject header =
          GSON.fromJson(
              new String(headerBuf.array(), StandardCharsets.UTF_8).trim(), JsonObject.class);
      long base = 8 + headerLength;
      Map<String, NDArray> out = new LinkedHashMap<>();
      for (Map.Entry<String, JsonElement> e : header.entrySet()) {
        if (e.getKey().equals("__metadata__")) {
          continue;
        }
        JsonObject entry = e.getValue().getAsJsonObject();
        DataType dtype = dataType(entry.get("dtype").getAsString(), file, e.getKey());
        var shapeJson = entry.getAsJsonArray("shape");
        long[] dims = new long[shapeJson.size()];
        for (int i = 0; i < dims.length; i++) {
          dims[i] = shapeJson.get(i).getAsLong();
        }
        var offsets = entry.getAsJsonArray("data_offsets");
        long from = offsets.get(0).getAsLong();
        long to = offsets.get(1).getAsLong();
        Shape shape = new Shape(dims);
        if (to - from != shape.size() * dtype.getNumOfBytes()) {
          throw new IOException(
              file
                  + ": tensor "
                  + e.getKey()
                  + " has "
                  + (to - from)
                  + " bytes for shape "
                  + shape
                  + " "
                  + dtype);
        }
        ByteBuffer buf =
            ByteBuffer.allocateDirect((int) (to - from)).order(ByteOrder.LITTLE_ENDIAN);
        ch.position(base + from);
        readFully(ch, buf, file);
        buf.flip();
        NDArray a = manager.create(buf, shape, dtype);
        a.setName(e.getKey());
        out.put(e.getKey(), a);
      }
      return out;
    }
  }

  /** The {@code __metadata__} strings of {@code file} (empty when there are none). */
  public static Map<String, String> metadata(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, len, file);
      ByteBuffer headerBuf = ByteBuffer.allocate((int) len.flip().getLong());
      readFully(ch, headerBuf, file);
      JsonObject header =
          GSON.fromJson(
              new String(headerBuf.array(), StandardCharsets.UTF_8).trim(), JsonObject.class);
      Map<String, String> out = new LinkedHashMap<>();
      if (header.has("__metadata__")) {
        header
            .getAsJsonObject("__metadata__")
            .entrySet()
            .forEach(e -> out.put(e.getKey(), e.getValue().getAsString()));
      }
      return out;
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, Path file) throws IOException {
    while (buf.hasRemaining()) {
      if (ch.read(buf) < 0) {
        throw new IOException(file + ": truncated safetensors file");
      }
    }
  }

  private static String code(DataType t, String name) {
    switch (t) {
      case FLOAT32:
        return "F32";
      case FLOAT16:
        return "F16";
      case FLOAT64:
        return "F64";
      case INT64:
        return "I64";
      case INT32:
        return "I32";
      case INT8:
        return "I8";
      case UINT8:
        return "U8";
      case BOOLEAN:
        return "BOOL";
      default:
        throw new IllegalArgumentException(
            "tensor " + name + ": dtype " + t + " cannot be written to safetensors here");
    }
  }

  private static DataType dataType(String code, Path file, String name) throws IOException {
    switch (code) {
      case "F32":
        return DataType.FLOAT32;
      case "F16":
        return DataType.FLOAT16;
      case "F64":
        return DataType.FLOAT64;
      case "I64":
        return DataType.INT64;
      case "I32":
        return DataType.INT32;
      case "I8":
        return DataType.INT8;
      case "U8":
        return DataType.UINT8;
      case "BOOL":
        return DataType.BOOLEAN;
      default:
        throw new IOException(
            file
                + ": tensor "
                + name
                + " has dtype "
                + code
                + " (BF16 adapters must be converted to F16/F32 first)");
    }
  }
}
