package io.loraflow.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * deploy/compose/docker-compose.yml as docker compose sees it: variables interpolated with the
 * values of deploy/compose/.env.example (compose's own rules: {@code ${X:-default}}, {@code
 * ${X:?error}}, {@code $$}), then parsed with anchors and merge keys resolved.
 */
record ComposeFile(
    Path file, Map<String, String> example, Set<String> variablesUsed, JsonNode tree) {
  private static final Pattern VARIABLE =
      Pattern.compile(
          "\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?}|\\$([A-Za-z_][A-Za-z0-9_]*)");

  static ComposeFile load() {
    Path dir = YamlDocuments.repoRoot().resolve("deploy/compose");
    Path file = dir.resolve("docker-compose.yml");
    Map<String, String> example = readEnvFile(dir.resolve(".env.example"));
    Set<String> used = new TreeSet<>();
    String text = interpolate(YamlDocuments.read(file), example, used);
    return new ComposeFile(file, example, used, YamlDocuments.parse(text).get(0));
  }

  /**
   * Replaces variables like docker compose does; a variable without value and default is an error.
   */
  static String interpolate(String text, Map<String, String> values, Set<String> used) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String replacement;
      if (m.group().equals("$$")) {
        replacement = "$";
      } else {
        String name = m.group(1) != null ? m.group(1) : m.group(4);
        used.add(name);
        String value = values.get(name);
        String operator = m.group(2);
        if (value != null && !(value.isEmpty() && operator != null && operator.startsWith(":"))) {
          replacement = value;
        } else if (operator != null && operator.endsWith("-")) {
          replacement = m.group(3);
        } else {
          throw new AssertionError(
              "compose variable "
                  + name
                  + " has no value in .env.example and no default ("
                  + (operator != null && operator.endsWith("?") ? m.group(3) : m.group())
                  + ")");
        }
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  JsonNode services() {
    return tree.path("services");
  }

  /** A service's environment as a map (compose allows a map or a list of KEY=VALUE). */
  Map<String, String> environmentOf(String service) {
    JsonNode env = services().path(service).path("environment");
    Map<String, String> values = new LinkedHashMap<>();
    if (env.isObject()) {
      env.fields().forEachRemaining(e -> values.put(e.getKey(), e.getValue().asText()));
    } else {
      env.forEach(
          item -> {
            String[] kv = item.asText().split("=", 2);
            values.put(kv[0], kv.length > 1 ? kv[1] : "");
          });
    }
    return values;
  }

  /** The images of the services that have a build section. */
  Set<String> builtImages() {
    Set<String> images = new LinkedHashSet<>();
    services()
        .fields()
        .forEachRemaining(
            s -> {
              if (s.getValue().has("build")) {
                images.add(s.getValue().path("image").asText());
              }
            });
    return images;
  }

  private static Map<String, String> readEnvFile(Path file) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String line : YamlDocuments.read(file).split("\n")) {
      int eq = line.indexOf('=');
      if (!line.isBlank() && !line.startsWith("#") && eq > 0) {
        values.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
      }
    }
    return values;
  }
}
