package io.loraflow.api.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.dropwizard.testing.junit5.ResourceExtension;
import io.loraflow.api.LoraflowApplication;
import io.loraflow.api.TestTemporal;
import io.loraflow.api.auth.ApiKeyStore;
import io.loraflow.api.auth.ApiKeys;
import io.loraflow.api.auth.Scope;
import io.loraflow.api.core.ApiServices;
import io.loraflow.api.core.LimitSettings;
import io.loraflow.api.core.RunService;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.testing.TestWorkflowEnvironment;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The API as a contract, against an in-memory Temporal: keys and scopes (401 vs 403), bounds (413,
 * 429 with Retry-After), strict input (every problem at once, no coercion, null is not missing,
 * duplicate keys, no parser internals, nothing echoed at length), 405 with Allow.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class ApiContractTest {

  private static final ObjectMapper JSON = Jackson.newObjectMapper();
  private static final Path KEY_DIR = tempDir();
  private static final ApiKeyStore STORE =
      new ApiKeyStore(KEY_DIR.resolve("api-keys.json"), Clock.systemUTC());
  private static final String READ = add("reader", Scope.READ);
  private static final String WRITE = add("writer", Scope.WRITE);
  private static final String WRITE2 = add("writer-2", Scope.WRITE);
  private static final String SWEEPER = add("sweeper", Scope.WRITE);
  private static final String ADMIN = add("admin", Scope.ADMIN);
  private static final int MAX_BODY = 4096;

  private static final TestWorkflowEnvironment TEMPORAL = TestTemporal.start();
  private static final RunService RUNS =
      new RunService(TEMPORAL.getWorkflowClient(), TestTemporal.LINKS, Clock.systemUTC());
  private static final ApiServices SERVICES =
      ApiServices.connect(
          RUNS,
          ScheduleClient.newInstance(TEMPORAL.getWorkflowServiceStubs()),
          URI.create("http://127.0.0.1:1"),
          new LimitSettings(MAX_BODY, 2, 1000, io.dropwizard.util.Duration.seconds(42)));

  static final ResourceExtension API = build();

  private static ResourceExtension build() {
    ResourceExtension.Builder b =
        ResourceExtension.builder()
            .setMapper(LoraflowApplication.apiMapper(Jackson.newObjectMapper()));
    for (Object c :
        LoraflowApplication.jerseyComponents(SERVICES, new ApiKeys(STORE, null), "test")) {
      b.addProvider(c);
    }
    return b.build();
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("loraflow-keys-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String add(String id, Scope scope) {
    try {
      return STORE.add(id, scope).secret();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @AfterAll
  static void stopTemporal() {
    TEMPORAL.close();
  }

  private static Response post(String path, String key, String json) {
    return API.target(path)
        .request()
        .header("Authorization", "Bearer " + key)
        .post(Entity.entity(json, "application/json"));
  }

  private static Response get(String path, String key) {
    return API.target(path).request().header("Authorization", "Bearer " + key).get();
  }

  private static JsonNode body(Response r) {
    try {
      return JSON.readTree(r.readEntity(String.class));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static List<String> fields(JsonNode error) {
    List<String> f = new ArrayList<>();
    error.path("errors").forEach(e -> f.add(e.path("field").asText()));
    return f;
  }

  private static final String SPEC =
      "{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"smollm2-135m-instruct\"}";

  @Test
  void keysAreStoredHashedAndScopesAre401Or403() throws Exception {
    String file = Files.readString(STORE.file());
    assertFalse(file.contains(READ) || file.contains(WRITE) || file.contains(ADMIN), file);
    assertTrue(file.contains(ApiKeyStore.sha256(READ)), file);
    assertTrue(READ.startsWith("lfk_reader_"), READ);

    Response none = API.target("/v1/runs").request().get();
    assertEquals(401, none.getStatus());
    assertEquals("Bearer realm=\"loraflow\"", none.getHeaderString("WWW-Authenticate"));
    assertEquals(401, get("/v1/runs", READ + "x").getStatus());

    // read may read, not write; the 403 names the key, its scope and the scope needed
    Response readStarts = post("/v1/runs", READ, SPEC);
    assertEquals(403, readStarts.getStatus());
    String message = body(readStarts).path("message").asText();
    assertTrue(message.contains("'reader' has scope read"), message);
    assertTrue(message.contains("needs write"), message);
    assertFalse(message.contains(READ), "the key itself is never echoed");
    assertEquals(403, post("/v1/retrain", READ, "{}").getStatus());
    assertEquals(403, post("/v1/schedules/x/pause", READ, "").getStatus());

    // write may not delete schedules (admin); admin reaches the service (404: no such schedule)
    Response writeDeletes =
        API.target("/v1/schedules/nightly")
            .request()
            .header("Authorization", "Bearer " + WRITE)
            .delete();
    assertEquals(403, writeDeletes.getStatus());
    Response adminDeletes =
        API.target("/v1/schedules/nightly")
            .request()
            .header("Authorization", "Bearer " + ADMIN)
            .delete();
    assertEquals(404, adminDeletes.getStatus(), body(adminDeletes).toString());

    // a revoked key stops working (the file is re-read when it changes)
    String temp = add("temp", Scope.READ);
    Thread.sleep(1100);
    assertEquals(404, get("/v1/runs/finetune-x", temp).getStatus(), "a new key works at once");
    assertTrue(STORE.revoke("temp"));
    Thread.sleep(1100);
    assertEquals(401, get("/v1/runs/finetune-x", temp).getStatus());

    // the OpenAPI document needs no key
    assertEquals(200, API.target("/v1/openapi.json").request().get().getStatus());
  }

  @Test
  void admissionControlIs429WithRetryAfterPerKey() {
    String spec = SPEC.replace("}", ",\"runName\":\"adm-%d\"}");
    assertEquals(201, post("/v1/runs", WRITE2, spec.formatted(1)).getStatus());
    assertEquals(201, post("/v1/runs", WRITE2, spec.formatted(2)).getStatus());
    Response third = post("/v1/runs", WRITE2, spec.formatted(3));
    assertEquals(429, third.getStatus());
    assertEquals("42", third.getHeaderString("Retry-After"));
    String message = body(third).path("message").asText();
    assertTrue(message.contains("'writer-2' has 2 active or queued runs"), message);
    assertTrue(message.contains("limit per key is 2"), message);
    // another key is not affected
    Response other = post("/v1/runs", ADMIN, spec.formatted(4));
    assertEquals(201, other.getStatus(), body(other).toString());
  }

  @Test
  void aSweepCountsAsItsConcurrentChildrenAgainstTheKeysLimit() {
    String sweep =
        "{\"base\":{\"runName\":\"adm-sweep-%d\",\"dataset\":\"builtin:ecommerce-faq\","
            + "\"baseModel\":\"smollm2-135m-instruct\"},\"grid\":{\"loraR\":[4,8,16]},"
            + "\"maxConcurrent\":%d}";
    // 3 children, at most 2 at once: 2 runs of the key's 2
    Response first = post("/v1/sweeps", SWEEPER, sweep.formatted(1, 2));
    assertEquals(201, first.getStatus(), body(first).toString());
    Response run = post("/v1/runs", SWEEPER, SPEC.replace("}", ",\"runName\":\"adm-s-run\"}"));
    assertEquals(429, run.getStatus());
    assertEquals("42", run.getHeaderString("Retry-After"));
    assertTrue(
        body(run).path("message").asText().contains("'sweeper' has 2 active or queued runs"));
    Response second = post("/v1/sweeps", SWEEPER, sweep.formatted(2, 1));
    assertEquals(429, second.getStatus());
    assertEquals("42", second.getHeaderString("Retry-After"));
    // wider than any key may go: the answer says what to change; a bad spec stays a 400
    Response wide = post("/v1/sweeps", ADMIN, sweep.formatted(3, 3));
    assertEquals(429, wide.getStatus());
    String why = body(wide).path("message").asText();
    assertTrue(why.contains("Lower the sweep's maxConcurrent to 2 or less"), why);
    assertEquals(400, post("/v1/sweeps", SWEEPER, sweep.formatted(4, 99)).getStatus());
  }

  @Test
  void bodiesOverTheLimitAre413WithoutEchoAndLongFieldsAre400StatingTheLimit() {
    String huge = "x".repeat(MAX_BODY * 4);
    Response r = post("/v1/runs", WRITE, "{\"runName\":\"" + huge + "\"}");
    assertEquals(413, r.getStatus());
    String text = r.readEntity(String.class);
    assertTrue(text.contains("limit of " + MAX_BODY + " bytes"), text);
    assertTrue(text.length() < 300, "no echo: " + text.length() + " characters");

    String longName = "n".repeat(1000);
    Response tooLong =
        post("/v1/runs", WRITE, SPEC.replace("}", ",\"runName\":\"" + longName + "\"}"));
    assertEquals(400, tooLong.getStatus());
    JsonNode e = body(tooLong);
    assertEquals(List.of("runName"), fields(e));
    assertTrue(e.toString().contains("is 1000 characters; the limit is 64"), e.toString());
    assertFalse(e.toString().contains("nnnnnnnnnn"), "the value is not echoed");

    String modules = "[" + "\"q_proj\",".repeat(100) + "\"v_proj\"]";
    Response tooMany =
        post(
            "/v1/runs",
            WRITE,
            SPEC.replace("}", ",\"training\":{\"targetModules\":" + modules + "}}"));
    assertEquals(400, tooMany.getStatus());
    assertTrue(body(tooMany).toString().contains("has 101 items; the limit is 64"));
  }

  @Test
  void everyProblemAtOnceWithoutCoercionAndNullIsNotMissing() {
    String bad =
        "{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":null,\"runName\":7,"
            + "\"training\":{\"epochs\":1.5,\"loraR\":\"16\",\"epoch\":2},\"evalFraction\":true}";
    Response r = post("/v1/runs", WRITE, bad);
    assertEquals(400, r.getStatus());
    JsonNode e = body(r);
    assertEquals(
        List.of(
            "baseModel",
            "evalFraction",
            "runName",
            "training.epoch",
            "training.epochs",
            "training.loraR"),
        fields(e));
    String text = e.toString();
    assertTrue(text.contains("must not be null"), text);
    assertTrue(text.contains("must be an integer, got a number with a fraction"), text);
    assertTrue(text.contains("did you mean 'epochs'?"), text);
    assertTrue(text.contains("must be a number, got a boolean"), text);
    assertTrue(e.path("message").asText().equals("invalid request: 6 problems"), text);

    Response missing = post("/v1/runs", WRITE, "{\"dataset\":\"builtin:ecommerce-faq\"}");
    assertEquals(400, missing.getStatus());
    JsonNode m = body(missing);
    assertEquals(List.of("baseModel"), fields(m));
    assertEquals("invalid request: baseModel is required", m.path("message").asText());

    Response runNow = post("/v1/retrain", WRITE, "{\"fromRun\":\"finetune-x\",\"runNow\":0}");
    assertEquals(400, runNow.getStatus());
    assertTrue(body(runNow).toString().contains("must be a boolean, got an integer"));
  }

  @Test
  void duplicateKeysAndMalformedJsonAreClearWithoutParserInternals() {
    Response dup =
        post(
            "/v1/runs",
            WRITE,
            "{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"a\",\"baseModel\":\"b\"}");
    assertEquals(400, dup.getStatus());
    String d = body(dup).path("message").asText();
    assertTrue(d.contains("duplicate key 'baseModel'"), d);
    Response broken = post("/v1/runs", WRITE, "{\"dataset\": \"x\",");
    assertEquals(400, broken.getStatus());
    String b = body(broken).path("message").asText();
    assertTrue(b.startsWith("request body is not valid JSON at line 1"), b);
    for (String internal :
        new String[] {"jackson", "Source:", "reference chain", "REDACTED", "java."}) {
      assertFalse(b.contains(internal), b);
      assertFalse(d.contains(internal), d);
    }
  }

  @Test
  void aNullBodyAndRepeatedOrEmptyQueryParametersAre400() {
    Response nullBody = post("/v1/runs", WRITE, "null");
    assertEquals(400, nullBody.getStatus());
    assertTrue(body(nullBody).toString().contains("must not be null"));
    Response twice =
        API.target("/v1/runs")
            .queryParam("limit", 5, 6)
            .request()
            .header("Authorization", "Bearer " + READ)
            .get();
    assertEquals(400, twice.getStatus());
    assertTrue(body(twice).path("message").asText().contains("limit is given 2 times"));
    Response empty =
        API.target("/v1/runs")
            .queryParam("limit", "")
            .request()
            .header("Authorization", "Bearer " + READ)
            .get();
    assertEquals(400, empty.getStatus());
    assertTrue(body(empty).path("message").asText().contains("limit is empty"));
    Response nothingToDo = post("/v1/retrain", WRITE, "{\"fromRun\":\"x\",\"runNow\":false}");
    assertEquals(400, nothingToDo.getStatus());
    assertTrue(body(nothingToDo).toString().contains("runNow=false needs a schedule"));
  }

  @Test
  void retrainScheduleWithANullCronIs400NotA500() {
    Response r =
        post(
            "/v1/retrain",
            WRITE,
            "{\"fromRun\":\"finetune-x\",\"runNow\":false,\"schedule\":{\"cron\":[null]}}");
    assertEquals(400, r.getStatus());
    assertEquals(List.of("schedule.cron[0]"), fields(body(r)));
    Response both = post("/v1/retrain", WRITE, "{\"fromRun\":\"a\",\"fromModelVersion\":\"m/1\"}");
    assertEquals(400, both.getStatus());
    assertTrue(body(both).toString().contains("give exactly one of fromRun or fromModelVersion"));
  }

  @Test
  void retrainCronIsCheckedFieldByFieldWithEveryProblemListed() {
    Response r =
        post(
            "/v1/retrain",
            WRITE,
            "{\"fromRun\":\"finetune-x\",\"runNow\":false,\"schedule\":{\"cron\":"
                + "[\"*/15 9-17 * * MON-FRI\",\"0 17-9 * * *\",\"0 3 * * 8\"]}}");
    assertEquals(400, r.getStatus());
    JsonNode error = body(r);
    assertEquals(List.of("schedule.cron[1]", "schedule.cron[2]"), fields(error), error::toString);
    assertTrue(
        error.toString().contains("field 2 (hour) range '17-9' runs backwards"), error::toString);
    assertTrue(
        error.toString().contains("field 5 (day-of-week) '8' is out of range, values are 0-7"),
        error::toString);
  }

  @Test
  void tagKeysAndIpv4HostsAreCheckedByTheDocumentAsTheSpecChecksThem() {
    // found by the session-15 fuzz: the document let these through, the spec refused them
    Response keys =
        post(
            "/v1/runs",
            WRITE,
            "{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"smollm2-135m-instruct\","
                + "\"tags\":{\"\u00c5\":\"x\",\"loraflow.workflow_id\":\"y\",\"ok.key\":\"z\"}}");
    assertEquals(400, keys.getStatus());
    JsonNode error = body(keys);
    assertEquals(List.of("tags", "tags"), fields(error), error::toString);
    assertTrue(error.toString().contains("has a bad key (1-250 letters"), error::toString);
    Response host =
        post(
            "/v1/runs",
            WRITE,
            "{\"dataset\":\"http://7.666.619.65/faq.json\",\"baseModel\":\"smollm2-135m-instruct\"}");
    assertEquals(400, host.getStatus());
    assertEquals(List.of("dataset"), fields(body(host)));
    // the grid's product is bounded by its per-list maxItems (the fuzz's ST202): each over-long
    // list is named, with its own limit
    Response wide =
        post(
            "/v1/sweeps",
            WRITE,
            "{\"base\":" + SPEC + ",\"grid\":{\"epochs\":[1,2,3],\"loraR\":[1,2,3,4,5]}}");
    assertEquals(400, wide.getStatus());
    JsonNode wideError = body(wide);
    assertEquals(List.of("grid.epochs", "grid.loraR"), fields(wideError), wideError::toString);
    assertTrue(wideError.toString().contains("the limit is 2"), wideError::toString);
  }

  @Test
  void wrongMethodIs405WithAllowAndUnknownPathIsJson404() {
    Response r =
        API.target("/v1/runs/finetune-x")
            .request()
            .header("Authorization", "Bearer " + ADMIN)
            .delete();
    assertEquals(405, r.getStatus());
    assertTrue(r.getHeaderString("Allow").contains("GET"), r.getHeaderString("Allow"));
    assertEquals(405, body(r).path("code").asInt());
    Response unknown = get("/v1/nothing-here", ADMIN);
    assertEquals(404, unknown.getStatus());
    assertEquals(404, body(unknown).path("code").asInt());
  }
}
