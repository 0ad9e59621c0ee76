package io.loraflow.api.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.api.api.CancelAccepted;
import io.loraflow.api.api.CancelRequest;
import io.loraflow.api.api.ErrorBody;
import io.loraflow.api.api.RetrainRequest;
import io.loraflow.api.api.RetrainResponse;
import io.loraflow.api.api.RunAccepted;
import io.loraflow.api.api.RunList;
import io.loraflow.api.api.RunSummary;
import io.loraflow.api.api.RunView;
import io.loraflow.workflows.EvaluationSpec;
import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.RegistrySpec;
import io.loraflow.workflows.RunLinks;
import io.loraflow.workflows.RunSpec;
import io.loraflow.workflows.SweepGrid;
import io.loraflow.workflows.TrainingSpec;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Keeps the hand-written OpenAPI document in sync with the code: the same operations as the
 * resources' JAX-RS annotations, the same parameters, and each schema with exactly the record's
 * fields. Adding an endpoint or a field without documenting it fails here.
 */
class OpenApiDocumentTest {

  private static final JsonNode DOC = read();

  private static final Map<String, Class<? extends Record>> SCHEMAS = new LinkedHashMap<>();

  static {
    SCHEMAS.put("RunSpec", RunSpec.class);
    SCHEMAS.put("TrainingSpec", TrainingSpec.class);
    SCHEMAS.put("EvaluationSpec", EvaluationSpec.class);
    SCHEMAS.put("RegistrySpec", RegistrySpec.class);
    SCHEMAS.put("RunLinks", RunLinks.class);
    SCHEMAS.put("RunAccepted", RunAccepted.class);
    SCHEMAS.put("Progress", Progress.class);
    SCHEMAS.put("Failure", RunView.Failure.class);
    SCHEMAS.put("FineTuneResult", FineTuneResult.class);
    SCHEMAS.put("RunView", RunView.class);
    SCHEMAS.put("RunSummary", RunSummary.class);
    SCHEMAS.put("RunList", RunList.class);
    SCHEMAS.put("CancelRequest", CancelRequest.class);
    SCHEMAS.put("CancelAccepted", CancelAccepted.class);
    SCHEMAS.put("ScheduleRequest", RetrainRequest.ScheduleRequest.class);
    SCHEMAS.put("RetrainRequest", RetrainRequest.class);
    SCHEMAS.put("ScheduleView", RetrainResponse.ScheduleView.class);
    SCHEMAS.put("RetrainResponse", RetrainResponse.class);
    SCHEMAS.put("FieldError", ErrorBody.FieldError.class);
    SCHEMAS.put("ErrorBody", ErrorBody.class);
    SCHEMAS.put("AdapterVersion", io.loraflow.api.api.AdapterVersion.class);
    SCHEMAS.put("RegisteredAdapter", io.loraflow.api.api.RegisteredAdapter.class);
    SCHEMAS.put("AdapterList", io.loraflow.api.api.AdapterList.class);
    SCHEMAS.put("Comparison", io.loraflow.api.api.Comparison.class);
    SCHEMAS.put("ComparedRun", io.loraflow.api.api.Comparison.ComparedRun.class);
    SCHEMAS.put("ParamRow", io.loraflow.api.api.Comparison.ParamRow.class);
    SCHEMAS.put("MetricRow", io.loraflow.api.api.Comparison.MetricRow.class);
    SCHEMAS.put("ScheduleSummary", io.loraflow.api.api.ScheduleSummary.class);
    SCHEMAS.put("ScheduleList", io.loraflow.api.api.ScheduleList.class);
    SCHEMAS.put("TryAdapterRequest", io.loraflow.api.api.TryAdapterRequest.class);
    SCHEMAS.put("TryAdapterResponse", io.loraflow.api.api.TryAdapterResponse.class);
    SCHEMAS.put("SweepGrid", io.loraflow.workflows.SweepGrid.class);
    SCHEMAS.put("SweepSpec", io.loraflow.workflows.SweepSpec.class);
    SCHEMAS.put("SweepChild", io.loraflow.workflows.SweepChild.class);
    SCHEMAS.put("SweepResult", io.loraflow.workflows.SweepResult.class);
    SCHEMAS.put("SweepAccepted", io.loraflow.api.api.SweepAccepted.class);
    SCHEMAS.put("SweepView", io.loraflow.api.api.SweepView.class);
  }

  private static final Class<?>[] RESOURCES = {
    RunsResource.class,
    RetrainResource.class,
    OpenApiResource.class,
    AdaptersResource.class,
    CompareResource.class,
    SchedulesResource.class,
    SweepsResource.class
  };

  private static JsonNode read() {
    try {
      return new ObjectMapper().readTree(OpenApiResource.load());
    } catch (Exception e) {
      throw new AssertionError("OpenAPI document is not JSON", e);
    }
  }

  @Test
  void documentsExactlyTheOperationsOfTheResources() {
    Set<String> code = new TreeSet<>();
    for (Class<?> resource : RESOURCES) {
      for (Method m : resource.getDeclaredMethods()) {
        String verb = verb(m);
        if (verb != null) {
          code.add(verb + " " + path(resource, m));
        }
      }
    }
    Set<String> documented = new TreeSet<>();
    DOC.path("paths")
        .fields()
        .forEachRemaining(
            p ->
                p.getValue()
                    .fieldNames()
                    .forEachRemaining(v -> documented.add(v + " " + p.getKey())));
    assertEquals(code, documented);
  }

  @Test
  void documentsExactlyTheParametersOfEachOperation() {
    for (Class<?> resource : RESOURCES) {
      for (Method m : resource.getDeclaredMethods()) {
        String verb = verb(m);
        if (verb == null) {
          continue;
        }
        Set<String> code = new TreeSet<>();
        for (Parameter p : m.getParameters()) {
          if (p.isAnnotationPresent(QueryParam.class)) {
            code.add("query " + p.getAnnotation(QueryParam.class).value());
          } else if (p.isAnnotationPresent(HeaderParam.class)) {
            code.add("header " + p.getAnnotation(HeaderParam.class).value());
          } else if (p.isAnnotationPresent(jakarta.ws.rs.PathParam.class)) {
            code.add("path " + p.getAnnotation(jakarta.ws.rs.PathParam.class).value());
          }
        }
        Set<String> documented = new TreeSet<>();
        JsonNode op = DOC.path("paths").path(path(resource, m)).path(verb);
        op.path("parameters")
            .forEach(p -> documented.add(p.path("in").asText() + " " + p.path("name").asText()));
        assertEquals(code, documented, verb + " " + path(resource, m));
      }
    }
  }

  @Test
  void eachSchemaHasExactlyTheFieldsOfItsRecord() {
    for (Map.Entry<String, Class<? extends Record>> e : SCHEMAS.entrySet()) {
      JsonNode schema = DOC.path("components").path("schemas").path(e.getKey());
      assertFalse(schema.isMissingNode(), "schema " + e.getKey() + " missing");
      Set<String> documented = new TreeSet<>();
      schema.path("properties").fieldNames().forEachRemaining(documented::add);
      Set<String> code = new TreeSet<>();
      Arrays.stream(e.getValue().getRecordComponents())
          .map(RecordComponent::getName)
          .forEach(code::add);
      assertEquals(code, documented, "schema " + e.getKey() + " vs " + e.getValue().getName());
    }
  }

  @Test
  void phasesAndReferencesAreComplete() {
    Set<String> phases = new TreeSet<>();
    DOC.path("components")
        .path("schemas")
        .path("Progress")
        .path("properties")
        .path("phase")
        .path("enum")
        .forEach(n -> phases.add(n.asText()));
    Set<String> code = new TreeSet<>();
    Arrays.stream(Phase.values()).map(Enum::name).forEach(code::add);
    assertEquals(code, phases);
    // every $ref points at a defined schema
    String text = DOC.toString();
    int at = 0;
    while ((at = text.indexOf("#/components/schemas/", at)) >= 0) {
      int end = text.indexOf('"', at);
      String name = text.substring(at + "#/components/schemas/".length(), end);
      assertTrue(DOC.path("components").path("schemas").has(name), "undefined $ref " + name);
      at = end;
    }
  }

  @Test
  void onlyTheDocumentItselfIsOpen() {
    assertEquals("bearer", DOC.path("security").get(0).fieldNames().next());
    DOC.path("paths")
        .fields()
        .forEachRemaining(
            p ->
                p.getValue()
                    .fields()
                    .forEachRemaining(
                        op -> {
                          boolean open =
                              op.getValue().has("security")
                                  && op.getValue().path("security").isEmpty();
                          assertEquals(
                              io.loraflow.api.auth.ApiKeyFilter.OPEN_PATHS.contains(
                                  p.getKey().substring(1)),
                              open,
                              op.getKey() + " " + p.getKey());
                        }));
  }

  @Test
  void eachOperationDocumentsTheScopeTheCodeRequiresAndItsErrors() {
    for (Class<?> resource : RESOURCES) {
      for (Method m : resource.getDeclaredMethods()) {
        String verb = verb(m);
        if (verb == null || resource == OpenApiResource.class) {
          continue;
        }
        io.loraflow.api.auth.RequiresScope s =
            m.isAnnotationPresent(io.loraflow.api.auth.RequiresScope.class)
                ? m.getAnnotation(io.loraflow.api.auth.RequiresScope.class)
                : resource.getAnnotation(io.loraflow.api.auth.RequiresScope.class);
        String where = verb + " " + path(resource, m);
        assertTrue(s != null, where + " declares no @RequiresScope");
        JsonNode op = DOC.path("paths").path(path(resource, m)).path(verb);
        assertEquals(s.value().wire(), op.path("x-scope").asText(), where + " x-scope");
        for (String code : new String[] {"401", "403", "502", "503"}) {
          assertTrue(op.path("responses").has(code), where + " does not document " + code);
        }
        boolean body =
            Arrays.stream(m.getParameters())
                .anyMatch(
                    p ->
                        p.getAnnotations().length == 0
                            || Arrays.stream(p.getAnnotations())
                                .noneMatch(
                                    a ->
                                        a instanceof QueryParam
                                            || a instanceof HeaderParam
                                            || a instanceof jakarta.ws.rs.PathParam
                                            || a instanceof jakarta.ws.rs.core.Context));
        assertEquals(body, op.has("requestBody"), where + " request body");
        if (body) {
          assertTrue(op.path("responses").has("413"), where + " does not document 413");
        }
      }
    }
  }

  @Test
  void sweepGridValuesHaveTheBoundsOfTheTrainingFieldsTheyReplace() {
    // found by the session-15 fuzz: grid epochs 1354 passed the document, the spec refused it
    JsonNode grid = DOC.at("/components/schemas/SweepGrid/properties");
    JsonNode training = DOC.at("/components/schemas/TrainingSpec/properties");
    grid.fields()
        .forEachRemaining(
            f -> {
              JsonNode item = f.getValue().path("items");
              JsonNode field = training.path(f.getKey());
              for (String bound :
                  new String[] {
                    "type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"
                  }) {
                assertEquals(
                    field.path(bound), item.path(bound), "SweepGrid." + f.getKey() + " " + bound);
              }
            });
  }

  @Test
  void sweepGridListBoundsAreTheSpecsAndImplyItsCombinationLimit() {
    // found by the fuzz (ST202): a product of list lengths over 64 passed the document; the
    // per-list maxItems now bound the product, so the two cannot disagree
    JsonNode grid = DOC.at("/components/schemas/SweepGrid/properties");
    assertEquals(SweepGrid.MAX_R, grid.path("loraR").path("maxItems").asInt());
    assertEquals(SweepGrid.MAX_ALPHA, grid.path("loraAlpha").path("maxItems").asInt());
    assertEquals(SweepGrid.MAX_LR, grid.path("learningRate").path("maxItems").asInt());
    assertEquals(SweepGrid.MAX_EPOCHS, grid.path("epochs").path("maxItems").asInt());
    long product = 1;
    for (JsonNode list : grid) {
      product *= list.path("maxItems").asInt();
    }
    assertEquals(io.loraflow.workflows.SweepSpec.MAX_CHILDREN, product);
  }

  @Test
  void theCronPatternIsTheOneCronSyntaxGenerates() {
    JsonNode items = DOC.at("/components/schemas/ScheduleRequest/properties/cron/items");
    assertEquals(
        io.loraflow.api.core.CronSyntax.regex(),
        items.path("pattern").asText(),
        "regenerate the pattern from CronSyntax.regex()");
    assertEquals("cron", items.path("x-pattern-explain").asText());
  }

  @Test
  void requestSchemasBoundEveryStringAndNeverAcceptNull() {
    for (String name :
        new String[] {
          "RunSpec",
          "TrainingSpec",
          "EvaluationSpec",
          "RegistrySpec",
          "RetrainRequest",
          "ScheduleRequest",
          "CancelRequest",
          "SweepSpec",
          "SweepGrid"
        }) {
      DOC.path("components")
          .path("schemas")
          .path(name)
          .path("properties")
          .fields()
          .forEachRemaining(
              f -> {
                JsonNode t = f.getValue();
                String where = name + "." + f.getKey();
                assertFalse(t.path("type").toString().contains("null"), where + " accepts null");
                if ("string".equals(t.path("type").asText())) {
                  assertTrue(
                      t.has("maxLength") || t.has("enum"), where + " has no maxLength or enum");
                }
                if ("array".equals(t.path("type").asText())) {
                  assertTrue(t.has("maxItems"), where + " has no maxItems");
                  JsonNode items = t.path("items");
                  assertTrue(
                      !"string".equals(items.path("type").asText())
                          || items.has("maxLength")
                          || items.has("pattern"),
                      where + " items unbounded");
                }
              });
    }
  }

  private static String verb(Method m) {
    if (m.isAnnotationPresent(GET.class)) {
      return "get";
    }
    if (m.isAnnotationPresent(POST.class)) {
      return "post";
    }
    if (m.isAnnotationPresent(jakarta.ws.rs.DELETE.class)) {
      return "delete";
    }
    return null;
  }

  private static String path(Class<?> resource, Method m) {
    String base = resource.getAnnotation(Path.class).value();
    Path sub = m.getAnnotation(Path.class);
    return sub == null ? base : base + "/" + sub.value();
  }
}
