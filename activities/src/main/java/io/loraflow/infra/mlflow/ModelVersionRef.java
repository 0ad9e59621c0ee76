package io.loraflow.infra.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One version of a registered model as the MLflow registry returns it. */
public record ModelVersionRef(
    String name,
    String version,
    String source,
    String runId,
    Map<String, String> tags,
    List<String> aliases) {
  public ModelVersionRef {
    tags = Map.copyOf(tags);
    aliases = List.copyOf(aliases);
  }

  static ModelVersionRef fromJson(JsonNode v) {
    Map<String, String> tags = new HashMap<>();
    for (JsonNode t : v.path("tags")) {
      tags.put(t.path("key").asText(), t.path("value").asText());
    }
    List<String> aliases = new java.util.ArrayList<>();
    for (JsonNode a : v.path("aliases")) {
      aliases.add(a.asText());
    }
    return new ModelVersionRef(
        v.path("name").asText(),
        v.path("version").asText(),
        v.path("source").asText(),
        v.path("run_id").asText(),
        tags,
        aliases);
  }
}
