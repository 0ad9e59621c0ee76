package io.loraflow.engine.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One GGUF file (versions 2 and 3): header, metadata key/values, tensor infos and the aligned data
 * section. Everything but the tensor data is parsed and validated on open: a bad magic, a cut
 * header, an unknown tensor type or a tensor whose bytes lie past the end of the file fail here,
 * naming the file and tensor.
 *
 * <p>Layout: {@code "GGUF" u32 version | u64 n_tensors | u64 n_kv | kv* | tensor_info* | pad to
 * general.alignment | data}. Metadata values are Long (all integer types), Float, Double, Boolean,
 * String or List of those.
 */
public final class GgufFile implements AutoCloseable {

  private static final int MAGIC = 0x46554747; // "GGUF" little-endian
  private static final int DEFAULT_ALIGNMENT = 32;

  /**
   * One tensor as the file lists it.
   *
   * @param name GGUF name, e.g. "blk.0.attn_q.weight"
   * @param dims ggml order: dims[0] (ne0) varies fastest, so torch shape is dims reversed
   * @param type storage type
   * @param offset first byte relative to the data section
   */
  public record TensorInfo(String name, long[] dims, GgmlType type, long offset) {
    public long elements() {
      long n = 1;
      for (long d : dims) {
        n *= d;
      }
      return n;
    }

    public long bytes() {
      return type.bytes(elements());
    }

    /** torch order: reversed dims. */
    public long[] torchShape() {
      long[] s = new long[dims.length];
      for (int i = 0; i < dims.length; i++) {
        s[i] = dims[dims.length - 1 - i];
      }
      return s;
    }
  }

  private final Path file;
  private final FileChannel channel;
  private final int version;
  private final Map<String, Object> metadata;
  private final Map<String, TensorInfo> tensors;
  private final long dataOffset;

  private GgufFile(
      Path file,
      FileChannel channel,
      int version,
      Map<String, Object> metadata,
      Map<String, TensorInfo> tensors,
      long dataOffset) {
    this.file = file;
    this.channel = channel;
    this.version = version;
    this.metadata = metadata;
    this.tensors = tensors;
    this.dataOffset = dataOffset;
  }

  public static GgufFile open(Path file) {
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open GGUF file " + file, e);
    }
    try {
      return parse(file, channel);
    } catch (RuntimeException | IOException e) {
      try {
        channel.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof ModelFormatException m) {
        throw m;
      }
      if (e instanceof EOFException) {
        throw ModelFormatException.inFile(
            file, "header ends early (truncated file? download it again)");
      }
      throw ModelFormatException.inFile(file, "not a valid GGUF file: " + e);
    }
  }

  private static GgufFile parse(Path file, FileChannel channel) throws IOException {
    Reader r = new Reader(channel);
    int magic = r.i32();
    if (magic != MAGIC) {
      throw ModelFormatException.inFile(
          file, String.format("bad magic 0x%08x, expected \"GGUF\" (not a GGUF file)", magic));
    }
    int version = r.i32();
    if (version != 2 && version != 3) {
      throw ModelFormatException.inFile(
          file, "GGUF version " + version + " is not supported (supported: 2, 3)");
    }
    long tensorCount = r.i64();
    long kvCount = r.i64();
    if (tensorCount < 0 || tensorCount > 1_000_000 || kvCount < 0 || kvCount > 1_000_000) {
      throw ModelFormatException.inFile(
          file, "implausible counts: " + tensorCount + " tensors, " + kvCount + " metadata keys");
    }
    Map<String, Object> metadata = new LinkedHashMap<>();
    for (long i = 0; i < kvCount; i++) {
      String key = r.string();
      int type = r.i32();
      metadata.put(key, r.value(type, key));
    }
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    for (long i = 0; i < tensorCount; i++) {
      String name = r.string();
      int nDims = r.i32();
      if (nDims < 0 || nDims > 8) {
        throw ModelFormatException.inTensor(file, name, "bad n_dims " + nDims);
      }
      long[] dims = new long[nDims];
      for (int d = 0; d < nDims; d++) {
        dims[d] = r.i64();
        if (dims[d] < 0) {
          throw ModelFormatException.inTensor(file, name, "negative dimension " + dims[d]);
        }
      }
      int typeId = r.i32();
      long offset = r.i64();
      GgmlType type = GgmlType.byId(typeId);
      if (type == null) {
        throw ModelFormatException.inTensor(
            file, name, "ggml type id " + typeId + " is unknown (IQ* and newer types unsupported)");
      }
      if (nDims > 0 && dims[0] % type.blockSize != 0) {
        throw ModelFormatException.inTensor(
            file, name, "row length " + dims[0] + " is not a multiple of " + type + " blocks");
      }
      tensors.put(name, new TensorInfo(name, dims, type, offset));
    }
    int alignment = DEFAULT_ALIGNMENT;
    Object a = metadata.get("general.alignment");
    if (a instanceof Long l) {
      alignment = (int) (long) l;
      if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
        throw ModelFormatException.inFile(file, "general.alignment " + alignment + " is not 2^n");
      }
    }
    long dataOffset = (r.position() + alignment - 1) / alignment * alignment;
    long dataLen = channel.size() - dataOffset;
    for (TensorInfo t : tensors.values()) {
      if (t.offset() % alignment != 0) {
        throw ModelFormatException.inTensor(
            file, t.name(), "offset " + t.offset() + " not aligned to " + alignment);
      }
      if (t.offset() + t.bytes() > dataLen) {
        throw ModelFormatException.inTensor(
            file,
            t.name(),
            "data ends at byte "
                + (t.offset() + t.bytes())
                + " of the data section, but the file holds only "
                + Math.max(0, dataLen)
                + " (truncated file? download it again)");
      }
    }
    return new GgufFile(
        file,
        channel,
        version,
        Collections.unmodifiableMap(metadata),
        Collections.unmodifiableMap(tensors),
        dataOffset);
  }

  public Path file() {
    return file;
  }

  public int version() {
    return version;
  }

  public Map<String, Object> metadata() {
    return metadata;
  }

  /** Tensors in file order. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  /** Absolute file offset of the data section. */
  public long dataOffset() {
    return dataOffset;
  }

  /** A metadata string, or null. */
  public String string(String key) {
    Object v = metadata.get(key);
    return v instanceof String s ? s : null;
  }

  /** A metadata integer, or {@code fallback}. */
  public long integer(String key, long fallback) {
    Object v = metadata.get(key);
    return v instanceof Long l ? l : fallback;
  }

  /** A metadata float, or {@code fallback}. */
  public double real(String key, double fallback) {
    Object v = metadata.get(key);
    if (v instanceof Float f) {
      return f;
    }
    if (v instanceof Double d) {
      return d;
    }
    return v instanceof Long l ? l : fallback;
  }

  /** A metadata bool, or {@code fallback}. */
  public boolean bool(String key, boolean fallback) {
    Object v = metadata.get(key);
    return v instanceof Boolean b ? b : fallback;
  }

  /** A metadata array, or null. */
  @SuppressWarnings("unchecked")
  public List<Object> array(String key) {
    Object v = metadata.get(key);
    return v instanceof List<?> l ? (List<Object>) l : null;
  }

  /** The raw bytes of a tensor, memory mapped read-only (little-endian). */
  public ByteBuffer raw(TensorInfo t) {
    if (t.bytes() > Integer.MAX_VALUE) {
      throw ModelFormatException.inTensor(
          file, t.name(), t.bytes() + " bytes is more than one buffer can hold (2 GiB)");
    }
    try {
      if (t.bytes() == 0) {
        return ByteBuffer.allocate(0);
      }
      return channel
          .map(FileChannel.MapMode.READ_ONLY, dataOffset + t.offset(), t.bytes())
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read tensor '" + t.name() + "'", e);
    }
  }

  /** Dequantizes a whole tensor to fp32 (native order buffer, ready to read). */
  public ByteBuffer dequantize(TensorInfo t) {
    long n = t.elements();
    if (n * 4 > Integer.MAX_VALUE) {
      throw ModelFormatException.inTensor(
          file, t.name(), n + " elements as fp32 exceed one buffer (2 GiB)");
    }
    ByteBuffer out = ByteBuffer.allocateDirect((int) (n * 4)).order(ByteOrder.nativeOrder());
    dequantize(t, 0, n, out);
    return out.flip();
  }

  /**
   * Dequantizes elements [first, first + count) of a tensor (both whole blocks) to fp32, appended
   * to {@code dst}.
   */
  public void dequantize(TensorInfo t, long first, long count, ByteBuffer dst) {
    if (!t.type().supported) {
      throw unsupported(t);
    }
    int bs = t.type().blockSize;
    if (first % bs != 0 || count % bs != 0) {
      throw new IllegalArgumentException(
          t.name() + ": range " + first + "+" + count + " is not whole " + t.type() + " blocks");
    }
    ByteBuffer raw;
    try {
      long len = t.type().bytes(count);
      raw =
          len == 0
              ? ByteBuffer.allocate(0)
              : channel
                  .map(
                      FileChannel.MapMode.READ_ONLY,
                      dataOffset + t.offset() + t.type().bytes(first),
                      len)
                  .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read tensor '" + t.name() + "'", e);
    }
    GgufDequant.dequantize(t.type(), raw, count, dst);
  }

  ModelFormatException unsupported(TensorInfo t) {
    return ModelFormatException.inTensor(
        file,
        t.name(),
        "ggml type "
            + t.type()
            + " cannot be dequantized (supported: F32 F16 BF16 Q4_0 Q4_1 Q8_0 Q4_K Q6_K);"
            + " re-quantize the model with one of those");
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sequential little-endian reads through a 1 MiB window of the channel. */
  private static final class Reader {
    private final FileChannel ch;
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private long bufStart = 0;

    Reader(FileChannel ch) {
      this.ch = ch;
      buf.limit(0);
    }

    long position() {
      return bufStart + buf.position();
    }

    private void need(int n) throws IOException {
      if (buf.remaining() >= n) {
        return;
      }
      long pos = position();
      buf.compact(); // unread bytes move to index 0, which is file position pos
      bufStart = pos;
      while (buf.position() < n) {
        int read = ch.read(buf, bufStart + buf.position());
        if (read < 0) {
          throw new EOFException();
        }
      }
      buf.flip();
    }

    int i32() throws IOException {
      need(4);
      return buf.getInt();
    }

    long i64() throws IOException {
      need(8);
      return buf.getLong();
    }

    String string() throws IOException {
      long len = i64();
      if (len < 0 || len > (1 << 24)) {
        throw new IOException("implausible string length " + len);
      }
      byte[] b = new byte[(int) len];
      int done = 0;
      while (done < b.length) {
        int chunk = Math.min(b.length - done, buf.capacity() / 2);
        need(chunk);
        buf.get(b, done, chunk);
        done += chunk;
      }
      return new String(b, StandardCharsets.UTF_8);
    }

    Object value(int type, String key) throws IOException {
      switch (type) {
        case 0: // UINT8
          need(1);
          return (long) (buf.get() & 0xff);
        case 1: // INT8
          need(1);
          return (long) buf.get();
        case 2: // UINT16
          need(2);
          return (long) (buf.getShort() & 0xffff);
        case 3: // INT16
          need(2);
          return (long) buf.getShort();
        case 4: // UINT32
          return i32() & 0xffffffffL;
        case 5: // INT32
          return (long) i32();
        case 6: // FLOAT32
          need(4);
          return buf.getFloat();
        case 7: // BOOL
          need(1);
          return buf.get() != 0;
        case 8: // STRING
          return string();
        case 9: // ARRAY
          int elemType = i32();
          long n = i64();
          if (n < 0 || n > 50_000_000) {
            throw new IOException("implausible array length " + n + " for " + key);
          }
          List<Object> list = new ArrayList<>((int) n);
          for (long i = 0; i < n; i++) {
            list.add(value(elemType, key));
          }
          return Collections.unmodifiableList(list);
        case 10: // UINT64 (values >= 2^63 read as negative longs)
        case 11: // INT64
          return i64();
        case 12: // FLOAT64
          need(8);
          return buf.getDouble();
        default:
          throw new IOException("unknown metadata value type " + type + " for key " + key);
      }
    }
  }
}
