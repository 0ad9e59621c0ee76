package io.loraflow.engine.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One open {@code .safetensors} file: {@code u64 header length (LE) | JSON header | data}. The
 * whole header is validated on open (every tensor's byte range must match its dtype and shape and
 * lie inside the file), so a truncated or corrupt file fails before any tensor is handed out.
 * Tensors are read through a memory map of just their byte range.
 */
public final class SafetensorsFile implements AutoCloseable {

  /** Largest header we accept (the Rust library's limit is 100 MB). */
  private static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  /**
   * Where one tensor lives.
   *
   * @param dtypeName dtype as the header spells it (may be one we cannot convert)
   * @param shape torch order
   * @param begin first byte, relative to the data section
   * @param end one past the last byte, relative to the data section
   */
  public record TensorInfo(String dtypeName, Shape shape, long begin, long end) {}

  private final Path file;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;
  private final TensorAssembler assembler;

  private SafetensorsFile(
      Path file,
      FileChannel channel,
      long dataStart,
      Map<String, TensorInfo> tensors,
      Map<String, String> metadata,
      TensorAssembler assembler) {
    this.assembler = assembler;
    this.file = file;
    this.channel = channel;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Opens and validates the header; throws {@link ModelFormatException} naming the file. */
  public static SafetensorsFile open(Path file) {
    return open(file, TensorAssembler.DEFAULT_BAND_BYTES);
  }

  static SafetensorsFile open(Path file, int bandBytes) {
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open safetensors file " + file, e);
    }
    try {
      return parse(file, channel, new TensorAssembler(bandBytes));
    } catch (RuntimeException | IOException e) {
      try {
        channel.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof ModelFormatException m) {
        throw m;
      }
      throw ModelFormatException.inFile(file, "not a valid safetensors file: " + e.getMessage());
    }
  }

  private static SafetensorsFile parse(Path file, FileChannel channel, TensorAssembler assembler)
      throws IOException {
    long size = channel.size();
    if (size < 8) {
      throw ModelFormatException.inFile(
          file, "only " + size + " bytes, too short for a safetensors header (truncated file?)");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(channel, lenBuf, 0);
    long headerLen = lenBuf.getLong(0);
    if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) {
      throw ModelFormatException.inFile(
          file,
          "header length "
              + headerLen
              + " does not fit the file of "
              + size
              + " bytes (truncated or not a safetensors file)");
    }
    ByteBuffer header = ByteBuffer.allocate((int) headerLen);
    readFully(channel, header, 8);
    String json = new String(header.array(), StandardCharsets.UTF_8);
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw ModelFormatException.inFile(file, "header is not valid JSON: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw ModelFormatException.inFile(file, "header is not a JSON object");
    }
    long dataStart = 8 + headerLen;
    long dataLen = size - dataStart;
    Map<String, TensorInfo> tensors = new TreeMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      JsonNode v = e.getValue();
      if (name.equals("__metadata__")) {
        v.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
        continue;
      }
      tensors.put(name, tensorInfo(file, name, v, dataLen));
    }
    return new SafetensorsFile(
        file,
        channel,
        dataStart,
        Collections.unmodifiableMap(tensors),
        Collections.unmodifiableMap(metadata),
        assembler);
  }

  private static TensorInfo tensorInfo(Path file, String name, JsonNode v, long dataLen) {
    JsonNode dtype = v.get("dtype");
    JsonNode shapeNode = v.get("shape");
    JsonNode offsets = v.get("data_offsets");
    if (dtype == null
        || shapeNode == null
        || !shapeNode.isArray()
        || offsets == null
        || offsets.size() != 2) {
      throw ModelFormatException.inTensor(
          file, name, "header entry lacks dtype/shape/data_offsets: " + v);
    }
    long[] dims = new long[shapeNode.size()];
    long count = 1;
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shapeNode.get(i).asLong(-1);
      if (dims[i] < 0) {
        throw ModelFormatException.inTensor(file, name, "negative dimension in shape " + shapeNode);
      }
      count = Math.multiplyExact(count, dims[i]);
    }
    long begin = offsets.get(0).asLong(-1);
    long end = offsets.get(1).asLong(-1);
    if (begin < 0 || end < begin) {
      throw ModelFormatException.inTensor(file, name, "bad data_offsets " + offsets);
    }
    SafetensorsDtype known = SafetensorsDtype.byName(dtype.asText());
    if (known != null && end - begin != count * known.bytes) {
      throw ModelFormatException.inTensor(
          file,
          name,
          "data_offsets "
              + offsets
              + " hold "
              + (end - begin)
              + " bytes but "
              + dtype.asText()
              + shapeNode
              + " needs "
              + count * known.bytes);
    }
    if (end > dataLen) {
      throw ModelFormatException.inTensor(
          file,
          name,
          "data ends at byte "
              + end
              + " but the file has only "
              + dataLen
              + " data bytes (truncated file? download it again)");
    }
    return new TensorInfo(dtype.asText(), new Shape(dims), begin, end);
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos + buf.position());
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
    }
    buf.flip();
  }

  public Path file() {
    return file;
  }

  /** Tensor names in sorted order. */
  public Set<String> names() {
    return tensors.keySet();
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  /** Where a tensor lives; throws naming the file when it is absent. */
  public TensorInfo info(String name) {
    TensorInfo info = tensors.get(name);
    if (info == null) {
      throw ModelFormatException.inTensor(file, name, "not in this file");
    }
    return info;
  }

  /** Reads a tensor in its stored dtype (bf16 widened to fp32). */
  public NDArray load(String name, NDManager manager) {
    return load(name, manager, null);
  }

  /**
   * Reads a tensor converted to {@code dtype} (null: the stored dtype, bf16 widened to fp32) into
   * {@code manager} (and so onto its device).
   */
  public NDArray load(String name, NDManager manager, DataType dtype) {
    TensorInfo info = info(name);
    SafetensorsDtype source = SafetensorsDtype.byName(info.dtypeName());
    if (source == null) {
      throw ModelFormatException.inTensor(
          file,
          name,
          "dtype "
              + info.dtypeName()
              + " is not supported (supported: F32 F16 BF16 F64 I64 I32 I8 U8 BOOL)");
    }
    long rows = info.shape().dimension() == 0 ? 1 : info.shape().get(0);
    long rowBytes = rows == 0 ? 0 : (info.end() - info.begin()) / rows;
    boolean widen = source == SafetensorsDtype.BF16;
    DataType produced = widen ? DataType.FLOAT32 : source.djl;
    TensorAssembler.RowWriter writer =
        (firstRow, n, dst) -> {
          ByteBuffer raw = map(name, info.begin() + firstRow * rowBytes, n * rowBytes);
          if (widen) {
            while (raw.hasRemaining()) {
              dst.putFloat(Half.bf16ToFloat(raw.getShort()));
            }
          } else if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            dst.put(raw);
          } else {
            throw new UnsupportedOperationException("big-endian hosts are not supported");
          }
        };
    synchronized (assembler) {
      return assembler.assemble(info.shape(), produced, writer, manager, dtype);
    }
  }

  private ByteBuffer map(String name, long offset, long len) {
    try {
      if (len == 0) {
        return ByteBuffer.allocate(0);
      }
      return channel
          .map(FileChannel.MapMode.READ_ONLY, dataStart + offset, len)
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read tensor '" + name + "'", e);
    }
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
