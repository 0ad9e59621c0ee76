package io.loraflow.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The objects of deploy/k8s (every *.yaml but kustomization.yaml), each with the file it came from.
 */
record KubernetesManifests(Path dir, List<KubernetesManifests.Manifest> objects) {

  record Manifest(Path file, JsonNode object) {
    String kind() {
      return object.path("kind").asText();
    }

    String name() {
      return object.path("metadata").path("name").asText();
    }

    /** "file: Kind/name", for assertion messages. */
    String where() {
      return file.getFileName() + ": " + kind() + "/" + name();
    }

    /** The pod template of a Deployment, StatefulSet or Job. */
    Optional<JsonNode> podTemplate() {
      JsonNode template = object.path("spec").path("template");
      return template.isObject() ? Optional.of(template) : Optional.empty();
    }
  }

  static KubernetesManifests load(Path dir) {
    List<Manifest> objects = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        if (file.getFileName().toString().equals("kustomization.yaml")) {
          continue;
        }
        for (JsonNode object : YamlDocuments.parse(YamlDocuments.read(file))) {
          objects.add(new Manifest(file, object));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
    return new KubernetesManifests(dir, List.copyOf(objects));
  }

  List<Manifest> ofKind(String kind) {
    return objects.stream().filter(m -> m.kind().equals(kind)).toList();
  }

  Optional<Manifest> find(String kind, String name) {
    return objects.stream().filter(m -> m.kind().equals(kind) && m.name().equals(name)).findFirst();
  }

  /** The containers of every workload, paired with the workload. */
  List<Container> containers() {
    List<Container> containers = new ArrayList<>();
    for (Manifest manifest : objects) {
      manifest
          .podTemplate()
          .ifPresent(
              template -> {
                for (String field : List.of("initContainers", "containers")) {
                  template
                      .path("spec")
                      .path(field)
                      .forEach(c -> containers.add(new Container(manifest, template, c)));
                }
              });
    }
    return containers;
  }

  record Container(Manifest owner, JsonNode podTemplate, JsonNode spec) {
    String where() {
      return owner.where() + " container " + spec.path("name").asText();
    }
  }
}
