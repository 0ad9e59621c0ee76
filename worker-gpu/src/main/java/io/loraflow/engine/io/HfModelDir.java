package io.loraflow.engine.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.loraflow.engine.model.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A Hugging Face model directory as a {@link WeightSource}: {@code config.json} plus either {@code
 * model.safetensors.index.json} (sharded) or the {@code *.safetensors} files in the directory. All
 * shard headers are validated on open.
 */
public final class HfModelDir implements WeightSource {

  private final Path dir;
  private final ModelConfig config;
  private final List<SafetensorsFile> files;
  private final Map<String, SafetensorsFile> byName;

  private HfModelDir(
      Path dir, ModelConfig config, List<SafetensorsFile> files, Map<String, SafetensorsFile> map) {
    this.dir = dir;
    this.config = config;
    this.files = files;
    this.byName = map;
  }

  public static HfModelDir open(Path dir) {
    ModelConfig config = HfConfig.read(dir);
    List<Path> shardPaths = shardPaths(dir);
    List<SafetensorsFile> files = new ArrayList<>();
    try {
      Map<String, SafetensorsFile> byName = new TreeMap<>();
      for (Path p : shardPaths) {
        SafetensorsFile f = SafetensorsFile.open(p);
        files.add(f);
        for (String name : f.names()) {
          SafetensorsFile previous = byName.put(name, f);
          if (previous != null) {
            throw ModelFormatException.inTensor(
                p, name, "also present in " + previous.file() + "; remove the duplicate shard");
          }
        }
      }
      checkIndex(dir, byName);
      return new HfModelDir(dir, config, files, Collections.unmodifiableMap(byName));
    } catch (RuntimeException e) {
      files.forEach(SafetensorsFile::close);
      throw e;
    }
  }

  private static List<Path> shardPaths(Path dir) {
    Path index = dir.resolve("model.safetensors.index.json");
    if (Files.isRegularFile(index)) {
      JsonNode map = HfConfig.readJson(index).get("weight_map");
      if (map == null || !map.isObject()) {
        throw ModelFormatException.inFile(index, "has no weight_map object");
      }
      Set<String> shards = new java.util.TreeSet<>();
      map.fields().forEachRemaining(e -> shards.add(e.getValue().asText()));
      List<Path> out = new ArrayList<>();
      for (String s : shards) {
        Path p = dir.resolve(s);
        if (!Files.isRegularFile(p)) {
          throw ModelFormatException.inFile(index, "names shard " + s + " which is missing");
        }
        out.add(p);
      }
      return out;
    }
    try (Stream<Path> list = Files.list(dir)) {
      List<Path> out =
          list.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
      if (out.isEmpty()) {
        boolean bin = Files.exists(dir.resolve("pytorch_model.bin"));
        throw new ModelFormatException(
            dir
                + ": no *.safetensors weights"
                + (bin
                    ? " (only pytorch_model.bin, which we do not read: convert it with"
                        + " safetensors' convert script)"
                    : ""));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  /** Every tensor named in the index must be in the shard the index names. */
  private static void checkIndex(Path dir, Map<String, SafetensorsFile> byName) {
    Path index = dir.resolve("model.safetensors.index.json");
    if (!Files.isRegularFile(index)) {
      return;
    }
    JsonNode map = HfConfig.readJson(index).get("weight_map");
    map.fields()
        .forEachRemaining(
            e -> {
              SafetensorsFile f = byName.get(e.getKey());
              if (f == null) {
                throw ModelFormatException.inTensor(
                    dir.resolve(e.getValue().asText()),
                    e.getKey(),
                    "listed in model.safetensors.index.json but missing from the shard");
              }
            });
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public Set<String> names() {
    return byName.keySet();
  }

  @Override
  public Shape shape(String name) {
    return file(name).info(name).shape();
  }

  @Override
  public NDArray load(String name, NDManager manager, DataType dtype) {
    return file(name).load(name, manager, dtype);
  }

  private SafetensorsFile file(String name) {
    SafetensorsFile f = byName.get(name);
    if (f == null) {
      throw new ModelFormatException(
          dir + ": tensor '" + name + "' is not in any *.safetensors file of this model");
    }
    return f;
  }

  /** The shard files, for tools that want metadata. */
  public Map<String, Path> tensorFiles() {
    Map<String, Path> out = new LinkedHashMap<>();
    byName.forEach((k, v) -> out.put(k, v.file()));
    return out;
  }

  @Override
  public String description() {
    return dir.toString();
  }

  @Override
  public void close() {
    files.forEach(SafetensorsFile::close);
  }
}
