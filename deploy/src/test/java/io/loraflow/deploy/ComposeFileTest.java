package io.loraflow.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * deploy/compose cannot rot (no Docker engine here, and this machine's docker client has no compose
 * plugin): the file validates against the compose specification's schema, and its parts fit
 * together (dependencies, volumes, Dockerfile stages and COPY sources, client settings, the GPU
 * reservation).
 */
class ComposeFileTest {
  private static final ComposeFile COMPOSE = ComposeFile.load();
  private static final Path ROOT = YamlDocuments.repoRoot();
  private static final Set<String> EXPECTED_SERVICES =
      Set.of(
          "temporal-postgres",
          "temporal",
          "temporal-ui",
          "minio",
          "mlflow-postgres",
          "mlflow",
          "api",
          "worker-cpu",
          "worker-gpu");

  @Test
  void validatesAgainstTheComposeSpecification() {
    assertEquals(List.of(), Schemas.validateCompose(COMPOSE.tree()));
  }

  @Test
  void theSchemaCheckRejectsAnUnknownServiceField() {
    JsonNode broken =
        YamlDocuments.parse("services:\n  a:\n    image: busybox:1.36\n    imagee: typo\n").get(0);
    assertFalse(
        Schemas.validateCompose(broken).isEmpty(), "a misspelt service field passed the schema");
  }

  @Test
  void hasTheWholeStack() {
    Set<String> services = new TreeSet<>();
    COMPOSE.services().fieldNames().forEachRemaining(services::add);
    assertTrue(
        services.containsAll(EXPECTED_SERVICES),
        "services " + services + " lack some of " + EXPECTED_SERVICES);
  }

  @Test
  void everyVariableHasAnExampleOrADefault() {
    // load() already failed on a variable without either; here: no stale example values either.
    Set<String> unused = new TreeSet<>(COMPOSE.example().keySet());
    unused.removeAll(COMPOSE.variablesUsed());
    unused.removeIf(name -> name.startsWith("COMPOSE_")); // read by docker compose itself
    assertEquals(Set.of(), unused, ".env.example has variables the compose file does not use");
    assertThrows(
        AssertionError.class,
        () -> ComposeFile.interpolate("x: ${MISSING:?set it}", Map.of(), new HashSet<>()));
  }

  @Test
  void dependenciesNameExistingServicesWithValidConditions() {
    List<String> problems = new ArrayList<>();
    COMPOSE
        .services()
        .fields()
        .forEachRemaining(
            service ->
                service
                    .getValue()
                    .path("depends_on")
                    .fields()
                    .forEachRemaining(
                        dep -> {
                          JsonNode target = COMPOSE.services().path(dep.getKey());
                          String condition = dep.getValue().path("condition").asText();
                          if (target.isMissingNode()) {
                            problems.add(
                                service.getKey() + " depends on unknown service " + dep.getKey());
                          } else if (condition.equals("service_healthy")
                              && !target.has("healthcheck")) {
                            problems.add(
                                service.getKey()
                                    + " waits for "
                                    + dep.getKey()
                                    + " to be healthy, which has no healthcheck");
                          } else if (condition.equals("service_completed_successfully")
                              && !target.path("restart").asText().equals("no")) {
                            problems.add(
                                service.getKey()
                                    + " waits for "
                                    + dep.getKey()
                                    + " to complete, which restarts");
                          }
                        }));
    assertEquals(List.of(), problems);
  }

  @Test
  void namedVolumesAreDeclared() {
    JsonNode declared = COMPOSE.tree().path("volumes");
    COMPOSE
        .services()
        .fields()
        .forEachRemaining(
            service ->
                service
                    .getValue()
                    .path("volumes")
                    .forEach(
                        volume -> {
                          String source = volume.asText().split(":")[0];
                          if (!source.startsWith(".") && !source.startsWith("/")) {
                            assertTrue(
                                declared.has(source),
                                service.getKey() + " mounts undeclared volume " + source);
                          }
                        }));
  }

  @Test
  void buildsPointAtExistingDockerfileStagesAndCopySources() throws Exception {
    Pattern stage = Pattern.compile("(?im)^FROM\\s+\\S+\\s+AS\\s+(\\S+)\\s*$");
    Pattern copy = Pattern.compile("(?m)^COPY\\s+(?!--from)(.+?)\\s+\\S+\\s*$");
    var services = COMPOSE.services().fields();
    int builds = 0;
    while (services.hasNext()) {
      var service = services.next();
      JsonNode build = service.getValue().path("build");
      if (build.isMissingNode()) {
        continue;
      }
      builds++;
      Path context = COMPOSE.file().getParent().resolve(build.path("context").asText()).normalize();
      Path dockerfile = context.resolve(build.path("dockerfile").asText("Dockerfile"));
      assertTrue(Files.isRegularFile(dockerfile), service.getKey() + ": no " + dockerfile);
      String text = Files.readString(dockerfile);
      Set<String> stages = new HashSet<>();
      Matcher m = stage.matcher(text);
      while (m.find()) {
        stages.add(m.group(1));
      }
      if (build.has("target")) {
        assertTrue(
            stages.contains(build.get("target").asText()),
            service.getKey()
                + ": "
                + dockerfile.getFileName()
                + " has no stage "
                + build.get("target")
                + " "
                + stages);
      }
      Matcher c = copy.matcher(text);
      while (c.find()) {
        for (String source : c.group(1).trim().split("\\s+")) {
          assertTrue(
              Files.exists(context.resolve(source)),
              dockerfile + ": COPY source " + source + " missing");
        }
      }
    }
    assertEquals(4, builds, "expected builds for mlflow, api, worker-cpu and worker-gpu");
  }

  @Test
  void clientSettingsPointAtServicesThatExposeThosePorts() {
    for (String service : List.of("api", "worker-cpu", "worker-gpu")) {
      Map<String, String> env = COMPOSE.environmentOf(service);
      for (String key :
          List.of("LORAFLOW_TEMPORAL_TARGET", "LORAFLOW_S3_ENDPOINT", "LORAFLOW_MLFLOW_URI")) {
        String value = env.get(key);
        assertTrue(value != null, service + " lacks " + key);
        URI uri = URI.create(value.contains("://") ? value : "grpc://" + value);
        JsonNode target = COMPOSE.services().path(uri.getHost());
        assertFalse(
            target.isMissingNode(), service + ": " + key + "=" + value + " names no service");
        Set<String> exposed = new HashSet<>();
        target.path("expose").forEach(p -> exposed.add(p.asText()));
        assertTrue(
            exposed.contains(String.valueOf(uri.getPort())),
            service + ": " + key + "=" + value + " but " + uri.getHost() + " exposes " + exposed);
      }
    }
  }

  @Test
  void theGpuWorkerRunsOnTheNvidiaRuntimeWithGpusReserved() {
    JsonNode gpu = COMPOSE.services().path("worker-gpu");
    assertEquals("nvidia", gpu.path("runtime").asText());
    JsonNode device =
        gpu.path("deploy").path("resources").path("reservations").path("devices").get(0);
    assertEquals("nvidia", device.path("driver").asText());
    assertTrue(
        device.path("capabilities").toString().contains("\"gpu\""), "capabilities " + device);
    assertTrue(
        COMPOSE.services().path("worker-cpu").path("deploy").isMissingNode(),
        "the CPU worker reserves devices");
  }

  @Test
  void everyImageIsPinnedToATag() {
    COMPOSE
        .services()
        .fields()
        .forEachRemaining(
            service -> {
              String image = service.getValue().path("image").asText();
              assertTrue(
                  image.matches("[^:]+:[^:]+") && !image.endsWith(":latest"),
                  service.getKey() + ": image " + image);
            });
  }

  @Test
  void theMlflowImageUsesTheLocalStacksFrozenRequirements() throws Exception {
    String dockerfile = Files.readString(ROOT.resolve("deploy/docker/mlflow.Dockerfile"));
    assertTrue(dockerfile.contains("deploy/local/mlflow-requirements.txt"));
    String requirements = Files.readString(ROOT.resolve("deploy/local/mlflow-requirements.txt"));
    String image = COMPOSE.services().path("mlflow").path("image").asText();
    String version = image.substring(image.indexOf(':') + 1);
    assertTrue(
        requirements.contains("\nmlflow==" + version + "\n"),
        "image " + image + " but requirements pin another mlflow");
  }
}
