package io.loraflow.engine.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The safetensors format, read and write. Files we write are byte-identical to the Python {@code
 * safetensors} library's for the same tensors (tensors ordered by descending dtype rank, then name;
 * compact JSON; header padded with spaces to 8 bytes); metadata keys are written sorted, which the
 * Python library does not promise (it uses a hash map).
 */
public final class Safetensors {

  private Safetensors() {}

  /** Opens a file for reading tensor by tensor; see {@link SafetensorsFile}. */
  public static SafetensorsFile open(Path file) {
    return SafetensorsFile.open(file);
  }

  /**
   * Reads every tensor in its stored dtype (bf16 widened to fp32) into {@code manager}. On error
   * nothing is left in the manager.
   */
  public static Map<String, NDArray> readAll(Path file, NDManager manager) {
    try (SafetensorsFile f = open(file);
        NDManager scratch = manager.newSubManager()) {
      Map<String, NDArray> out = new LinkedHashMap<>();
      for (String name : f.names()) {
        out.put(name, f.load(name, scratch));
      }
      out.values().forEach(a -> a.attach(manager));
      return out;
    }
  }

  /**
   * Writes {@code tensors} (any device; F32 F16 F64 I64 I32 I8 U8 BOOL) with optional string {@code
   * metadata} (PEFT writes {"format": "pt"}). Written to a temporary file and moved into place, so
   * readers never see half a file.
   */
  public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata) {
    List<Pending> pending = new ArrayList<>();
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      NDArray a = e.getValue();
      pending.add(
          new Pending(e.getKey(), a.getDataType(), a.getShape().getShape(), a::toByteBuffer));
    }
    write(file, pending, metadata);
  }

  /**
   * A tensor to be written whose bytes are produced only when its turn comes, so a whole model can
   * be streamed to disk one tensor at a time (see {@link #write(Path, List, Map)}).
   *
   * @param name tensor name in the header
   * @param dtype one of F32 F16 F64 I64 I32 I8 U8 BOOL (checked here, before anything is written)
   * @param shape torch order
   * @param bytes little-endian data, exactly shape-size * dtype-size bytes
   */
  public record Pending(String name, DataType dtype, long[] shape, Supplier<ByteBuffer> bytes) {
    public Pending {
      SafetensorsDtype.of(dtype); // fails on a dtype safetensors cannot hold here
    }

    SafetensorsDtype stored() {
      return SafetensorsDtype.of(dtype);
    }

    long size() {
      long n = stored().bytes;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  /**
   * Writes {@code tensors} one at a time, each one's bytes asked for only when its turn comes
   * (order in the file: descending dtype rank, then name, as the Python library writes them).
   * Atomic like {@link #write(Path, Map, Map)}.
   */
  public static void write(Path file, List<Pending> tensors, Map<String, String> metadata) {
    List<Pending> entries = new ArrayList<>(tensors);
    entries.sort(
        Comparator.comparingInt((Pending en) -> -en.stored().rank).thenComparing(Pending::name));

    StringBuilder json = new StringBuilder("{");
    if (metadata != null && !metadata.isEmpty()) {
      json.append("\"__metadata__\":{");
      boolean first = true;
      for (Map.Entry<String, String> m : new TreeMap<>(metadata).entrySet()) {
        if (!first) {
          json.append(',');
        }
        first = false;
        jsonString(json, m.getKey());
        json.append(':');
        jsonString(json, m.getValue());
      }
      json.append('}');
    }
    long offset = 0;
    for (Pending en : entries) {
      if (json.length() > 1) {
        json.append(',');
      }
      jsonString(json, en.name());
      json.append(":{\"dtype\":\"").append(en.stored().name()).append("\",\"shape\":[");
      long[] dims = en.shape();
      for (int i = 0; i < dims.length; i++) {
        json.append(i == 0 ? "" : ",").append(dims[i]);
      }
      json.append("],\"data_offsets\":[")
          .append(offset)
          .append(',')
          .append(offset + en.size())
          .append("]}");
      offset += en.size();
    }
    json.append('}');
    byte[] headerBytes = json.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (headerBytes.length + 7) / 8 * 8;

    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(headerBytes);
        while (head.hasRemaining()) {
          head.put((byte) ' ');
        }
        writeFully(ch, head.flip());
        for (Pending en : entries) {
          ByteBuffer data = en.bytes().get();
          if (data.remaining() != en.size()) {
            throw new IllegalStateException(
                "tensor '"
                    + en.name()
                    + "' gave "
                    + data.remaining()
                    + " bytes, expected "
                    + en.size());
          }
          writeFully(ch, data);
        }
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write safetensors file " + file, e);
    } finally {
      try {
        Files.deleteIfExists(tmp); // a failed write leaves nothing behind
      } catch (IOException ignored) {
        // best effort: the next write truncates it anyway
      }
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  /** A JSON string literal escaped the way serde_json does it. */
  private static void jsonString(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
