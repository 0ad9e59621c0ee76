package io.loraflow.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraflow.deploy.KubernetesManifests.Container;
import io.loraflow.deploy.KubernetesManifests.Manifest;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * deploy/k8s cannot rot: every object validates against the strict Kubernetes schema of its kind,
 * and the objects fit together (selectors, Services, ConfigMap/Secret keys, the client settings,
 * the GPU request).
 */
class KubernetesManifestsTest {
  private static final Path DIR = YamlDocuments.repoRoot().resolve("deploy/k8s");
  private static final KubernetesManifests K8S = KubernetesManifests.load(DIR);
  private static final String NAMESPACE = "loraflow";

  @Test
  void everyObjectValidatesAgainstTheStrictSchemaOfItsKind() {
    assertTrue(
        K8S.objects().size() >= 15, "expected the whole stack, found " + K8S.objects().size());
    List<String> problems = new ArrayList<>();
    for (Manifest manifest : K8S.objects()) {
      Schemas.validateKubernetes(manifest.object())
          .forEach(error -> problems.add(manifest.where() + ": " + error));
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void theSchemaCheckRejectsAnUnknownFieldAndAWrongType() {
    // The negative control: the same check on a Deployment with a misspelt field and a string
    // replica count.
    JsonNode broken =
        YamlDocuments.parse(
                """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: broken}
                spec:
                  replicas: "two"
                  selector: {matchLabels: {app: broken}}
                  template:
                    metadata: {labels: {app: broken}}
                    spec:
                      containers:
                        - name: c
                          image: busybox:1.36
                          imagePullPolicy: Always
                          port: 80
                """)
            .get(0);
    List<String> errors = Schemas.validateKubernetes(broken);
    assertTrue(
        errors.stream().anyMatch(e -> e.contains("port")), "unknown field not reported: " + errors);
    assertTrue(
        errors.stream().anyMatch(e -> e.contains("replicas")),
        "wrong type not reported: " + errors);
  }

  @Test
  void everyObjectIsInTheLoraflowNamespaceAndUniquelyNamed() {
    Set<String> seen = new HashSet<>();
    for (Manifest manifest : K8S.objects()) {
      if (!manifest.kind().equals("Namespace")) {
        assertEquals(
            NAMESPACE,
            manifest.object().path("metadata").path("namespace").asText(),
            manifest.where());
      }
      assertTrue(
          seen.add(manifest.kind() + "/" + manifest.name()), "duplicate " + manifest.where());
    }
    assertTrue(K8S.find("Namespace", NAMESPACE).isPresent(), "no Namespace " + NAMESPACE);
  }

  @Test
  void kustomizationListsEveryManifestFile() throws IOException {
    JsonNode kustomization =
        YamlDocuments.parse(YamlDocuments.read(DIR.resolve("kustomization.yaml"))).get(0);
    Set<String> listed = new TreeSet<>();
    kustomization.path("resources").forEach(r -> listed.add(r.asText()));
    Set<String> files = new TreeSet<>();
    try (Stream<Path> list = Files.list(DIR)) {
      list.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
          .forEach(files::add);
    }
    assertEquals(files, listed);
    assertEquals(NAMESPACE, kustomization.path("namespace").asText());
  }

  @Test
  void workloadSelectorsMatchTheirPodLabels() {
    for (String kind : List.of("Deployment", "StatefulSet")) {
      for (Manifest workload : K8S.ofKind(kind)) {
        JsonNode matchLabels = workload.object().path("spec").path("selector").path("matchLabels");
        JsonNode podLabels = workload.podTemplate().orElseThrow().path("metadata").path("labels");
        assertFalse(matchLabels.isEmpty(), workload.where() + " has no selector.matchLabels");
        matchLabels
            .fields()
            .forEachRemaining(
                label ->
                    assertEquals(
                        label.getValue(),
                        podLabels.get(label.getKey()),
                        workload.where()
                            + ": pod template lacks selector label "
                            + label.getKey()));
      }
    }
  }

  @Test
  void servicesSelectPodsThatHaveTheirTargetPorts() {
    for (Manifest service : K8S.ofKind("Service")) {
      JsonNode selector = service.object().path("spec").path("selector");
      List<Manifest> selected =
          Stream.concat(K8S.ofKind("Deployment").stream(), K8S.ofKind("StatefulSet").stream())
              .filter(
                  w ->
                      matches(
                          selector, w.podTemplate().orElseThrow().path("metadata").path("labels")))
              .toList();
      assertEquals(
          1, selected.size(), service.where() + " selects " + selected.size() + " workloads");
      JsonNode containers =
          selected.get(0).podTemplate().orElseThrow().path("spec").path("containers");
      for (JsonNode port : service.object().path("spec").path("ports")) {
        JsonNode target = port.has("targetPort") ? port.get("targetPort") : port.get("port");
        boolean found = false;
        for (JsonNode container : containers) {
          for (JsonNode containerPort : container.path("ports")) {
            found |=
                target.isInt()
                    ? containerPort.path("containerPort").asInt() == target.asInt()
                    : containerPort.path("name").asText().equals(target.asText());
          }
        }
        assertTrue(
            found,
            service.where()
                + ": no container of "
                + selected.get(0).where()
                + " has port "
                + target);
      }
    }
  }

  @Test
  void statefulSetsNameAnExistingService() {
    for (Manifest statefulSet : K8S.ofKind("StatefulSet")) {
      String serviceName = statefulSet.object().path("spec").path("serviceName").asText();
      assertTrue(
          K8S.find("Service", serviceName).isPresent(),
          statefulSet.where() + ": no Service " + serviceName);
    }
  }

  @Test
  void everyReferencedConfigMapSecretAndKeyExists() {
    List<String> problems = new ArrayList<>();
    for (Container container : K8S.containers()) {
      for (JsonNode source : container.spec().path("envFrom")) {
        refersTo(source.path("configMapRef"), "ConfigMap", null, container, problems);
        refersTo(source.path("secretRef"), "Secret", null, container, problems);
      }
      for (JsonNode env : container.spec().path("env")) {
        JsonNode from = env.path("valueFrom");
        refersTo(
            from.path("configMapKeyRef"),
            "ConfigMap",
            from.path("configMapKeyRef").path("key").asText(),
            container,
            problems);
        refersTo(
            from.path("secretKeyRef"),
            "Secret",
            from.path("secretKeyRef").path("key").asText(),
            container,
            problems);
      }
    }
    for (Manifest owner : K8S.objects()) {
      owner
          .podTemplate()
          .ifPresent(
              t ->
                  t.path("spec")
                      .path("volumes")
                      .forEach(
                          volume -> {
                            if (volume.has("configMap")) {
                              exists(
                                  "ConfigMap",
                                  volume.path("configMap").path("name").asText(),
                                  null,
                                  owner.where(),
                                  problems);
                            }
                            if (volume.has("secret")) {
                              exists(
                                  "Secret",
                                  volume.path("secret").path("secretName").asText(),
                                  null,
                                  owner.where(),
                                  problems);
                            }
                          }));
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void volumeMountsNameADeclaredVolumeOrClaimTemplate() {
    for (Container container : K8S.containers()) {
      Set<String> volumes = new HashSet<>();
      container
          .podTemplate()
          .path("spec")
          .path("volumes")
          .forEach(v -> volumes.add(v.path("name").asText()));
      container
          .owner()
          .object()
          .path("spec")
          .path("volumeClaimTemplates")
          .forEach(v -> volumes.add(v.path("metadata").path("name").asText()));
      for (JsonNode mount : container.spec().path("volumeMounts")) {
        assertTrue(
            volumes.contains(mount.path("name").asText()),
            container.where() + ": no volume " + mount.path("name"));
      }
    }
  }

  @Test
  void clientSettingsPointAtServicesOnTheirPorts() {
    JsonNode config = K8S.find("ConfigMap", "loraflow-config").orElseThrow().object().path("data");
    for (String key :
        List.of("LORAFLOW_TEMPORAL_TARGET", "LORAFLOW_S3_ENDPOINT", "LORAFLOW_MLFLOW_URI")) {
      String value = config.path(key).asText();
      URI uri = URI.create(value.contains("://") ? value : "grpc://" + value);
      Manifest service =
          K8S.find("Service", uri.getHost())
              .orElseThrow(
                  () -> new AssertionError(key + "=" + value + ": no Service " + uri.getHost()));
      boolean hasPort = false;
      for (JsonNode port : service.object().path("spec").path("ports")) {
        hasPort |= port.path("port").asInt() == uri.getPort();
      }
      assertTrue(
          hasPort, key + "=" + value + ": " + service.where() + " has no port " + uri.getPort());
    }
  }

  @Test
  void theGpuWorkerAsksForAnNvidiaGpuAndTimeToCheckpoint() {
    Manifest gpu = K8S.find("Deployment", "worker-gpu").orElseThrow();
    JsonNode podSpec = gpu.podTemplate().orElseThrow().path("spec");
    JsonNode limits = podSpec.path("containers").get(0).path("resources").path("limits");
    assertEquals(1, limits.path("nvidia.com/gpu").asInt(), gpu.where() + " limits " + limits);
    assertTrue(
        podSpec.path("terminationGracePeriodSeconds").asInt() >= 60,
        "no grace period for the checkpoint");
    for (Container container : K8S.containers()) {
      if (!container.owner().name().equals("worker-gpu")) {
        assertTrue(
            container
                .spec()
                .path("resources")
                .path("limits")
                .path("nvidia.com/gpu")
                .isMissingNode(),
            container.where() + " should not take a GPU");
      }
    }
  }

  @Test
  void everyImageIsPinnedToATag() {
    for (Container container : K8S.containers()) {
      String image = container.spec().path("image").asText();
      assertTrue(
          image.matches("[^:]+:[^:]+") && !image.endsWith(":latest"),
          container.where() + ": image " + image);
    }
  }

  @Test
  void composeAndKubernetesGiveEachLoraflowContainerTheSameSettings() {
    ComposeFile compose = ComposeFile.load();
    for (String workload : List.of("api", "worker-cpu", "worker-gpu")) {
      Container container =
          K8S.containers().stream()
              .filter(
                  c -> c.owner().kind().equals("Deployment") && c.owner().name().equals(workload))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no Deployment " + workload));
      Set<String> composeKeys = new TreeSet<>();
      compose.environmentOf(workload).keySet().stream()
          .filter(k -> k.startsWith("LORAFLOW_"))
          .forEach(composeKeys::add);
      Set<String> kubernetesKeys = new TreeSet<>();
      environmentKeys(container).stream()
          .filter(k -> k.startsWith("LORAFLOW_"))
          .forEach(kubernetesKeys::add);
      kubernetesKeys.remove(
          "LORAFLOW_API_HOST"); // compose gets it from the image (deploy/docker/Dockerfile)
      assertEquals(composeKeys, kubernetesKeys, workload + ": compose vs Kubernetes");
    }
  }

  @Test
  void theLoraflowImagesAreTheOnesComposeBuilds() {
    Set<String> built = ComposeFile.load().builtImages();
    for (Container container : K8S.containers()) {
      String image = container.spec().path("image").asText();
      if (image.startsWith("loraflow/")) {
        assertTrue(
            built.contains(image),
            container.where() + ": " + image + " is not built by compose (" + built + ")");
      }
    }
  }

  /**
   * The variables a container sees: its env entries and every key of the ConfigMaps/Secrets in
   * envFrom.
   */
  private static Set<String> environmentKeys(Container container) {
    Set<String> keys = new TreeSet<>();
    container.spec().path("env").forEach(e -> keys.add(e.path("name").asText()));
    for (JsonNode source : container.spec().path("envFrom")) {
      for (String kind : List.of("ConfigMap", "Secret")) {
        JsonNode ref = source.path(kind.equals("ConfigMap") ? "configMapRef" : "secretRef");
        if (ref.isObject()) {
          JsonNode object = K8S.find(kind, ref.path("name").asText()).orElseThrow().object();
          object.path("data").fieldNames().forEachRemaining(keys::add);
          object.path("stringData").fieldNames().forEachRemaining(keys::add);
        }
      }
    }
    return keys;
  }

  private static boolean matches(JsonNode selector, JsonNode labels) {
    if (selector.isEmpty()) {
      return false;
    }
    var fields = selector.fields();
    while (fields.hasNext()) {
      var label = fields.next();
      if (!label.getValue().equals(labels.get(label.getKey()))) {
        return false;
      }
    }
    return true;
  }

  private static void refersTo(
      JsonNode ref, String kind, String key, Container container, List<String> problems) {
    if (ref.isObject()) {
      exists(kind, ref.path("name").asText(), key, container.where(), problems);
    }
  }

  private static void exists(
      String kind, String name, String key, String where, List<String> problems) {
    Optional<Manifest> target = K8S.find(kind, name);
    if (target.isEmpty()) {
      problems.add(where + ": no " + kind + " " + name);
      return;
    }
    if (key != null) {
      JsonNode object = target.get().object();
      boolean has = object.path("data").has(key) || object.path("stringData").has(key);
      if (!has) {
        problems.add(where + ": " + kind + " " + name + " has no key " + key);
      }
    }
  }
}
