package io.loraflow.engine.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.model.ModelConfig;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A GGUF file (Llama-layout architectures) as a {@link WeightSource} under HF names and layouts:
 * GGUF names are mapped to HF names, dims reversed to torch order ([out, in]), tensors dequantized
 * to fp32 in Java, and for {@code general.architecture == "llama"} the q_proj/k_proj rows are
 * un-permuted (llama.cpp's convert script interleaves each head's rotary halves; we restore HF's
 * half-split order, as transformers does when it loads a GGUF).
 */
public final class GgufWeightSource implements WeightSource {

  private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.(\\w+)\\.(weight|bias)");
  private static final Map<String, String> GLOBAL =
      Map.of(
          "token_embd.weight", "model.embed_tokens.weight",
          "output_norm.weight", "model.norm.weight",
          "output.weight", "lm_head.weight");
  private static final Map<String, String> IN_BLOCK =
      Map.of(
          "attn_q", "self_attn.q_proj",
          "attn_k", "self_attn.k_proj",
          "attn_v", "self_attn.v_proj",
          "attn_output", "self_attn.o_proj",
          "ffn_gate", "mlp.gate_proj",
          "ffn_up", "mlp.up_proj",
          "ffn_down", "mlp.down_proj",
          "attn_norm", "input_layernorm",
          "ffn_norm", "post_attention_layernorm");

  private final GgufFile gguf;
  private final ModelConfig config;
  private final Map<String, GgufFile.TensorInfo> byHfName;
  private final boolean unpermute;
  private final TensorAssembler assembler;

  private GgufWeightSource(
      GgufFile gguf,
      ModelConfig config,
      Map<String, GgufFile.TensorInfo> byHfName,
      TensorAssembler assembler) {
    this.gguf = gguf;
    this.assembler = assembler;
    this.config = config;
    this.byHfName = byHfName;
    this.unpermute = "llama".equals(gguf.string("general.architecture"));
  }

  /** Opens and validates the file: every tensor must map to an HF name and be dequantizable. */
  public static GgufWeightSource open(Path file) {
    return open(file, TensorAssembler.DEFAULT_BAND_BYTES);
  }

  static GgufWeightSource open(Path file, int bandBytes) {
    GgufFile gguf = GgufFile.open(file);
    try {
      return over(gguf, bandBytes);
    } catch (RuntimeException e) {
      gguf.close();
      throw e;
    }
  }

  /** Wraps an open file; the source takes ownership and closes it. */
  public static GgufWeightSource over(GgufFile gguf) {
    return over(gguf, TensorAssembler.DEFAULT_BAND_BYTES);
  }

  private static GgufWeightSource over(GgufFile gguf, int bandBytes) {
    Map<String, GgufFile.TensorInfo> map = new TreeMap<>();
    for (GgufFile.TensorInfo t : gguf.tensors().values()) {
      String hf = hfName(t.name());
      if (hf == null) {
        throw ModelFormatException.inTensor(
            gguf.file(), t.name(), "has no Hugging Face counterpart we know");
      }
      if (!t.type().supported) {
        throw gguf.unsupported(t);
      }
      map.put(hf, t);
    }
    ModelConfig config = GgufConfig.translate(gguf);
    return new GgufWeightSource(
        gguf, config, Collections.unmodifiableMap(map), new TensorAssembler(bandBytes));
  }

  /** The HF name of a GGUF tensor name, or null. */
  static String hfName(String ggufName) {
    String global = GLOBAL.get(ggufName);
    if (global != null) {
      return global;
    }
    Matcher m = BLOCK.matcher(ggufName);
    if (!m.matches()) {
      return null;
    }
    String module = IN_BLOCK.get(m.group(2));
    return module == null ? null : "model.layers." + m.group(1) + "." + module + "." + m.group(3);
  }

  public GgufFile file() {
    return gguf;
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public Set<String> names() {
    return byHfName.keySet();
  }

  @Override
  public Shape shape(String name) {
    return new Shape(info(name).torchShape());
  }

  /** The GGUF tensor behind an HF name. */
  public GgufFile.TensorInfo info(String name) {
    GgufFile.TensorInfo t = byHfName.get(name);
    if (t == null) {
      throw new ModelFormatException(
          gguf.file() + ": tensor '" + name + "' is not in this GGUF file");
    }
    return t;
  }

  @Override
  public NDArray load(String name, NDManager manager, DataType dtype) {
    GgufFile.TensorInfo t = info(name);
    Shape shape = new Shape(t.torchShape());
    long rowElems = shape.dimension() == 0 || shape.get(0) == 0 ? 0 : t.elements() / shape.get(0);
    TensorAssembler.RowWriter writer =
        (firstRow, rows, dst) -> gguf.dequantize(t, firstRow * rowElems, rows * rowElems, dst);
    NDArray a;
    synchronized (assembler) {
      a = assembler.assemble(shape, DataType.FLOAT32, writer, manager, dtype);
    }
    int heads = rotaryHeads(name);
    if (heads <= 0) {
      return a;
    }
    // llama.cpp stored row h*hd + 2j + i; HF wants row h*hd + i*hd/2 + j: view the rows as
    // (heads, hd/2, 2) and swap the last two
    try (a) {
      long rows = shape.get(0);
      long cols = rowElems;
      return a.reshape(heads, rows / heads / 2, 2, cols).swapAxes(1, 2).reshape(shape);
    }
  }

  /** Heads whose rows llama.cpp permuted in this tensor, or 0 when it is not permuted. */
  private int rotaryHeads(String name) {
    if (!unpermute) {
      return 0;
    }
    if (name.endsWith("self_attn.q_proj.weight") || name.endsWith("self_attn.q_proj.bias")) {
      return config.numHeads();
    }
    if (name.endsWith("self_attn.k_proj.weight") || name.endsWith("self_attn.k_proj.bias")) {
      return config.numKvHeads();
    }
    return 0;
  }

  @Override
  public String description() {
    return gguf.file().toString();
  }

  @Override
  public void close() {
    gguf.close();
  }
}
