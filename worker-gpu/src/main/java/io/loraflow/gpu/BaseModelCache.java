package io.loraflow.gpu;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.model.ModelConfig;
import io.loraflow.infra.Manifest;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.StorageKeys;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Base models cached in the object store under {@code models/<name>/} (files first, manifest last)
 * and on this worker's disk.
 *
 * <p>Layout of one entry: the weights (the {@code .gguf} file, or an HF directory's {@code
 * config.json} + {@code *.safetensors}), {@code tokenizer.json}, {@code tokenizer_config.json} with
 * the chat template (so the CPU worker can tokenize without the engine), {@code config.json} (for a
 * GGUF: a summary of its metadata), {@code manifest.json}. The manifest's meta carries what {@link
 * BaseModelRef} needs.
 */
final class BaseModelCache {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ObjectStore store;
  private final PrefixPublisher publisher;
  private final Path localRoot;

  BaseModelCache(ObjectStore store, Path localRoot) {
    this.store = store;
    this.publisher = new PrefixPublisher(store);
    this.localRoot = localRoot;
  }

  /** The cached entry, if its manifest is complete. */
  Optional<BaseModelRef> find(String baseModel, String storageName) {
    return publisher.readComplete(prefix(storageName)).map(m -> ref(baseModel, storageName, m));
  }

  /** Publishes the model at {@code source} (GGUF file or HF dir) as {@code models/<name>/}. */
  BaseModelRef publish(String baseModel, String storageName, Path source, Runnable heartbeat) {
    Path staging = localRoot.resolve("staging-" + UUID.randomUUID());
    try (ModelFiles files = openModel(baseModel, source)) {
      Files.createDirectories(staging);
      ModelConfig config = files.config();
      String modelFile;
      if (Files.isDirectory(source)) {
        modelFile = "";
        try (Stream<Path> entries = Files.list(source)) {
          for (Path p : entries.filter(Files::isRegularFile).toList()) {
            Files.createSymbolicLink(staging.resolve(p.getFileName()), p.toAbsolutePath());
          }
        }
      } else {
        modelFile = source.getFileName().toString();
        Files.createSymbolicLink(staging.resolve(modelFile), source.toAbsolutePath());
        Files.writeString(staging.resolve("config.json"), summaryConfig(config));
      }
      Path tokDir = files.tokenizerJson().getParent();
      if (!Files.exists(staging.resolve("tokenizer.json"))) {
        Files.copy(files.tokenizerJson(), staging.resolve("tokenizer.json"));
      }
      String template = files.chatTemplate().orElse(null);
      writeTokenizerConfig(staging.resolve("tokenizer_config.json"), tokDir, template);
      heartbeat.run();
      Map<String, String> meta = new HashMap<>();
      meta.put("baseModel", baseModel);
      meta.put("modelFile", modelFile);
      meta.put("architecture", config.family().name().toLowerCase(java.util.Locale.ROOT));
      meta.put(
          "eosTokenIds",
          config.eosTokenIds().stream().map(String::valueOf).collect(Collectors.joining(",")));
      if (template != null) {
        meta.put("chatTemplate", template);
      }
      Manifest m = publisher.publish(staging, prefix(storageName), meta);
      return ref(baseModel, storageName, m);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stage " + source + " for models/" + storageName, e);
    } finally {
      deleteTree(staging);
    }
  }

  /**
   * The local path to open with {@code ModelFiles.open}: the GGUF file or the HF directory,
   * downloaded (and verified) from {@code models/<name>/} once per worker.
   */
  Path local(BaseModelRef ref) {
    Path dir = localRoot.resolve(ref.storageName());
    Path marker = dir.resolve(".complete");
    if (!Files.isRegularFile(marker)) {
      deleteTree(dir);
      publisher.download(prefix(ref.storageName()), dir);
      try {
        Files.writeString(marker, ref.modelKey());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    String modelPrefix = StorageKeys.modelPrefix(ref.storageName());
    String rel = ref.modelKey().substring(modelPrefix.length());
    return rel.isEmpty() ? dir : dir.resolve(rel);
  }

  private static ModelFiles openModel(String baseModel, Path source) {
    try {
      return ModelFiles.open(source);
    } catch (RuntimeException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "baseModel '" + baseModel + "' (" + source + ") cannot be read: " + e.getMessage(),
          FailureTypes.INVALID_BASE_MODEL);
    }
  }

  private static String prefix(String storageName) {
    String p = StorageKeys.modelPrefix(storageName);
    return p.substring(0, p.length() - 1);
  }

  private static BaseModelRef ref(String baseModel, String storageName, Manifest m) {
    Map<String, String> meta = m.meta();
    String eos = meta.getOrDefault("eosTokenIds", "");
    List<Integer> eosIds =
        eos.isEmpty() ? List.of() : Arrays.stream(eos.split(",")).map(Integer::valueOf).toList();
    return new BaseModelRef(
        baseModel,
        storageName,
        StorageKeys.modelPrefix(storageName) + meta.getOrDefault("modelFile", ""),
        StorageKeys.modelTokenizer(storageName),
        meta.get("chatTemplate"),
        eosIds,
        meta.getOrDefault("architecture", "llama"));
  }

  /** tokenizer_config.json with the chat template (the converter's own, completed if needed). */
  private static void writeTokenizerConfig(Path target, Path tokDir, String template)
      throws IOException {
    Path own = tokDir.resolve("tokenizer_config.json");
    ObjectNode cfg =
        Files.isRegularFile(own)
            ? (ObjectNode) JSON.readTree(own.toFile())
            : JSON.createObjectNode();
    if (template != null && !cfg.has("chat_template")) {
      cfg.put("chat_template", template);
    }
    Files.deleteIfExists(target); // may be a link to the source directory's file
    Files.writeString(target, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(cfg));
  }

  /** A config.json summarizing a GGUF's metadata (for tools that read HF configs). */
  private static String summaryConfig(ModelConfig c) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("model_type", c.family() == ModelConfig.Family.FALCON ? "falcon" : "llama");
    n.put("vocab_size", c.vocabSize());
    n.put("hidden_size", c.hiddenSize());
    n.put("intermediate_size", c.intermediateSize());
    n.put("num_hidden_layers", c.numLayers());
    n.put("num_attention_heads", c.numHeads());
    n.put("num_key_value_heads", c.numKvHeads());
    n.put("max_position_embeddings", c.maxPositions());
    n.put("rope_theta", c.ropeTheta());
    n.put("tie_word_embeddings", c.tieWordEmbeddings());
    if (c.bosTokenId() >= 0) {
      n.put("bos_token_id", c.bosTokenId());
    }
    c.eosTokenIds().forEach(n.withArray("eos_token_id")::add);
    n.put("loraflow_note", "summary of the GGUF metadata; the weights are in the .gguf file");
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
  }

  static void deleteTree(Path p) {
    if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(p)) {
      for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + p, e);
    }
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
