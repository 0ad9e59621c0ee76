package io.loraflow.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The vendored JSON schemas (src/test/resources/schemas, made by
 * src/test/python/vendor_schemas.py): the strict Kubernetes v1.34 schemas (unknown fields are
 * errors) and the compose specification.
 */
final class Schemas {
  /** apiVersion/kind -> schema file, for every kind deploy/k8s may use. */
  private static final Map<String, String> KUBERNETES_KINDS =
      Map.of(
          "v1/Namespace", "namespace-v1.json",
          "v1/ConfigMap", "configmap-v1.json",
          "v1/Secret", "secret-v1.json",
          "v1/Service", "service-v1.json",
          "apps/v1/Deployment", "deployment-apps-v1.json",
          "apps/v1/StatefulSet", "statefulset-apps-v1.json",
          "batch/v1/Job", "job-batch-v1.json");

  private static final JsonSchemaFactory KUBERNETES_FACTORY =
      JsonSchemaFactory.getInstance(
          SpecVersion.VersionFlag.V202012,
          builder ->
              builder.schemaMappers(
                  mappers ->
                      mappers.mapPrefix("https://kubernetes.io/api/", "classpath:schemas/k8s/")));
  private static final Map<String, JsonSchema> KUBERNETES_CACHE = new ConcurrentHashMap<>();

  private Schemas() {}

  static Set<String> kubernetesKinds() {
    return new TreeSet<>(KUBERNETES_KINDS.keySet());
  }

  /**
   * Schema violations of one Kubernetes object; an unsupported apiVersion/kind is one violation
   * too.
   */
  static List<String> validateKubernetes(JsonNode object) {
    String kind = object.path("apiVersion").asText() + "/" + object.path("kind").asText();
    String file = KUBERNETES_KINDS.get(kind);
    if (file == null) {
      return List.of(
          "apiVersion/kind "
              + kind
              + " is not one of "
              + kubernetesKinds()
              + " (add its schema in src/test/python/vendor_schemas.py and Schemas.KUBERNETES_KINDS)");
    }
    JsonSchema schema =
        KUBERNETES_CACHE.computeIfAbsent(
            file,
            f -> KUBERNETES_FACTORY.getSchema(SchemaLocation.of("classpath:schemas/k8s/" + f)));
    return messages(schema.validate(object));
  }

  /** Schema violations of a compose file (after variable interpolation). */
  static List<String> validateCompose(JsonNode compose) {
    JsonSchema schema =
        JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V201909)
            .getSchema(SchemaLocation.of("classpath:schemas/compose-spec.json"));
    return messages(schema.validate(compose));
  }

  private static List<String> messages(Set<ValidationMessage> errors) {
    return errors.stream().map(ValidationMessage::getMessage).sorted().toList();
  }
}
