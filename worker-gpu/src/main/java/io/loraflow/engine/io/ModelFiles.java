package io.loraflow.engine.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.loraflow.engine.model.ModelConfig;
import io.loraflow.engine.tokenizer.GgufTokenizerConverter;
import io.loraflow.engine.tokenizer.TextTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Everything a model needs from disk, from either an HF directory ({@code config.json}, {@code
 * *.safetensors}, {@code tokenizer.json}, {@code tokenizer_config.json}) or one GGUF file (whose
 * vocabulary is converted once to {@code tokenizer.json} under {@code
 * ~/.cache/loraflow/converted/<sha256 of the GGUF header>/}; {@code LORAFLOW_CACHE_DIR} moves the
 * cache root, as for the rest of the project).
 */
public final class ModelFiles implements AutoCloseable {

  /** Bump when the converter's output changes so stale conversions are not reused. */
  private static final String CONVERTER_VERSION = "gguf-tokenizer-v1";

  private final Path source;
  private final WeightSource weights;
  private final Path tokenizerDir;
  private final String chatTemplate;

  private ModelFiles(Path source, WeightSource weights, Path tokenizerDir, String chatTemplate) {
    this.source = source;
    this.weights = weights;
    this.tokenizerDir = tokenizerDir;
    this.chatTemplate = chatTemplate;
  }

  /** Opens an HF model directory or a {@code .gguf} file; validates all headers up front. */
  public static ModelFiles open(Path dirOrGguf) {
    if (Files.isDirectory(dirOrGguf)) {
      HfModelDir weights = HfModelDir.open(dirOrGguf);
      return new ModelFiles(dirOrGguf, weights, dirOrGguf, readChatTemplate(dirOrGguf));
    }
    if (!Files.isRegularFile(dirOrGguf)) {
      throw new ModelFormatException(dirOrGguf + ": no such model directory or GGUF file");
    }
    GgufWeightSource weights = GgufWeightSource.open(dirOrGguf);
    try {
      Path dir = convertedTokenizerDir(weights.file());
      return new ModelFiles(
          dirOrGguf, weights, dir, weights.file().string("tokenizer.chat_template"));
    } catch (RuntimeException e) {
      weights.close();
      throw e;
    }
  }

  /**
   * The cache root: system property {@code loraflow.cache}, else {@code $LORAFLOW_CACHE_DIR}, else
   * {@code ~/.cache/loraflow}.
   */
  public static Path cacheRoot() {
    String prop = System.getProperty("loraflow.cache");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop);
    }
    String env = System.getenv("LORAFLOW_CACHE_DIR");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(System.getProperty("user.home"), ".cache", "loraflow");
  }

  private static Path convertedTokenizerDir(GgufFile gguf) {
    String sha = headerSha256(gguf);
    Path dir = cacheRoot().resolve("converted").resolve(sha);
    if (Files.isRegularFile(dir.resolve("tokenizer.json"))
        && Files.isRegularFile(dir.resolve("tokenizer_config.json"))) {
      return dir;
    }
    Path tmp = dir.resolveSibling(sha + ".tmp-" + UUID.randomUUID());
    new GgufTokenizerConverter().convert(gguf, tmp);
    try {
      Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      // another process converted it first: keep theirs
      deleteTree(tmp);
      if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
        throw new UncheckedIOException("cannot place the converted tokenizer in " + dir, e);
      }
    }
    return dir;
  }

  /** SHA-256 of the converter version and the GGUF bytes before the tensor data (all metadata). */
  private static String headerSha256(GgufFile gguf) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(CONVERTER_VERSION.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      byte[] buf = new byte[1 << 16];
      long left = gguf.dataOffset();
      try (InputStream in = Files.newInputStream(gguf.file())) {
        while (left > 0) {
          int n = in.read(buf, 0, (int) Math.min(buf.length, left));
          if (n < 0) {
            break;
          }
          md.update(buf, 0, n);
          left -= n;
        }
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + gguf.file(), e);
    }
  }

  private static void deleteTree(Path p) {
    try (var walk = Files.walk(p)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // best effort cleanup of our own temporary directory
    }
  }

  private static String readChatTemplate(Path dir) {
    Path cfg = dir.resolve("tokenizer_config.json");
    if (Files.isRegularFile(cfg)) {
      JsonNode t = HfConfig.readJson(cfg).get("chat_template");
      if (t != null && t.isTextual()) {
        return t.asText();
      }
      if (t != null && t.isArray()) {
        for (JsonNode named : t) {
          if ("default".equals(named.path("name").asText())) {
            return named.path("template").asText();
          }
        }
      }
    }
    Path jinja = dir.resolve("chat_template.jinja");
    if (Files.isRegularFile(jinja)) {
      try {
        return Files.readString(jinja);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + jinja, e);
      }
    }
    return null;
  }

  public WeightSource weights() {
    return weights;
  }

  public ModelConfig config() {
    return weights.config();
  }

  /** tokenizer.json: the directory's own, or the one converted from the GGUF vocabulary. */
  public Path tokenizerJson() {
    Path p = tokenizerDir.resolve("tokenizer.json");
    if (!Files.isRegularFile(p)) {
      throw new ModelFormatException(
          source + ": no tokenizer.json (copy the model's tokenizer.json into the directory)");
    }
    return p;
  }

  /** A new tokenizer over {@link #tokenizerJson()} with this model's eos ids; caller closes it. */
  public TextTokenizer tokenizer() {
    return TextTokenizer.open(tokenizerJson(), eosTokenIds());
  }

  public Optional<String> chatTemplate() {
    return Optional.ofNullable(chatTemplate);
  }

  public List<Integer> eosTokenIds() {
    return weights.config().eosTokenIds();
  }

  /** Where the model came from. */
  public Path source() {
    return source;
  }

  /**
   * Writes an HF directory transformers can load: config.json, generation_config.json,
   * tokenizer.json, tokenizer_config.json and model.safetensors (fp16; tensors streamed one at a
   * time). Used to compare our numerics against transformers on the same weights.
   */
  public void exportHfDir(Path out) {
    try {
      Files.createDirectories(out);
      ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      json.writeValue(
          out.resolve("config.json").toFile(), HfConfigWriter.toJson(config(), "float16"));
      var gen = json.createObjectNode();
      if (config().bosTokenId() >= 0) {
        gen.put("bos_token_id", config().bosTokenId());
      }
      config().eosTokenIds().forEach(gen.withArray("eos_token_id")::add);
      json.writeValue(out.resolve("generation_config.json").toFile(), gen);
      for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
        Path src = tokenizerDir.resolve(f);
        if (Files.isRegularFile(src)) {
          Files.copy(src, out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot export to " + out, e);
    }
    List<Safetensors.Pending> pending = new ArrayList<>();
    for (String name : weights.names()) {
      pending.add(
          new Safetensors.Pending(
              name, DataType.FLOAT16, weights.shape(name).getShape(), () -> halfBytes(name)));
    }
    Safetensors.write(out.resolve("model.safetensors"), pending, Map.of("format", "pt"));
  }

  private ByteBuffer halfBytes(String name) {
    try (NDManager manager = NDManager.newBaseManager(ai.djl.Device.cpu())) {
      NDArray a = weights.load(name, manager, DataType.FLOAT16);
      ByteBuffer direct = a.toByteBuffer();
      ByteBuffer copy = ByteBuffer.allocate(direct.remaining()).order(ByteOrder.LITTLE_ENDIAN);
      copy.put(direct).flip();
      return copy;
    }
  }

  @Override
  public void close() {
    weights.close();
  }
}
