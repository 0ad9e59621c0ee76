package io.loraflow.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.RunSpecJson;
import io.loraflow.workflows.SweepSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a run spec (or sweep spec) file: YAML ({@code .yaml}, {@code .yml}) or JSON, strictly
 * (unknown fields fail).
 */
public final class SpecFiles {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();

  private SpecFiles() {}

  public static RunSpec read(Path file) {
    return read(file, "run spec", RunSpecJson::parseStrict);
  }

  /** A sweep spec file ({@code base}: a run spec, {@code grid}, ...), YAML or JSON, strictly. */
  public static SweepSpec readSweep(Path file) {
    return read(file, "sweep spec", RunSpecJson::parseStrictSweep);
  }

  private static <T> T read(Path file, String what, java.util.function.Function<String, T> parse) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          what + " file " + file.toAbsolutePath() + " does not exist");
    }
    String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    try {
      String text = Files.readString(file);
      String json =
          name.endsWith(".yaml") || name.endsWith(".yml")
              ? JSON.writeValueAsString(yamlTree(text, file))
              : text;
      return parse.apply(json);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read " + what + " " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static JsonNode yamlTree(String text, Path file) throws IOException {
    try {
      return YAML.readTree(text);
    } catch (IOException e) {
      throw new IllegalArgumentException("not valid YAML: " + e.getMessage(), e);
    }
  }
}
