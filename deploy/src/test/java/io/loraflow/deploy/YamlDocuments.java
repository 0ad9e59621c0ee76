package io.loraflow.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * YAML files as JSON trees, anchors and merge keys resolved (as docker compose and kubectl read
 * them).
 */
final class YamlDocuments {
  static final ObjectMapper JSON = new ObjectMapper();

  private YamlDocuments() {}

  /** Every document of a (possibly multi-document) YAML text, empty documents skipped. */
  static List<JsonNode> parse(String yamlText) {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    List<JsonNode> documents = new ArrayList<>();
    for (Object document : yaml.loadAll(yamlText)) {
      if (document != null) {
        documents.add(JSON.valueToTree(document));
      }
    }
    return documents;
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /**
   * The repository root, found upwards from the working directory (the deploy module when run by
   * Maven).
   */
  static Path repoRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("deploy/k8s"))
          && Files.isRegularFile(dir.resolve("pom.xml"))) {
        return dir;
      }
    }
    throw new IllegalStateException("no deploy/k8s above " + Path.of("").toAbsolutePath());
  }
}
