package io.loraflow.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.common.converter.DefaultDataConverter;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunSpecTest {

  @Test
  void minimalJsonTakesDefaultsThroughTemporalsConverter() {
    var converter = DefaultDataConverter.newDefaultInstance();
    String json =
        "{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"smollm2-135m-instruct\","
            + "\"training\":{\"epochs\":2},\"someFutureField\":1}";
    var payload =
        io.temporal.api.common.v1.Payload.newBuilder()
            .putMetadata("encoding", com.google.protobuf.ByteString.copyFromUtf8("json/plain"))
            .setData(com.google.protobuf.ByteString.copyFromUtf8(json))
            .build();
    RunSpec spec = converter.fromPayload(payload, RunSpec.class, RunSpec.class);
    assertEquals(List.of(), spec.problems());
    assertEquals(2, spec.training().epochs());
    assertEquals(2e-4, spec.training().learningRate());
    assertEquals("auto", spec.datasetFormat());
    assertEquals("default", spec.template());
    assertEquals(0.1, spec.evalFraction());
    assertEquals(16, spec.evaluation().numPrompts());
    assertTrue(spec.registry().promote());
    assertNull(spec.runName());
    assertEquals("loraflow-smollm2-135m-instruct-ecommerce-faq", spec.registeredModelName());
    assertEquals("loraflow-smollm2-135m-instruct", spec.experimentName());
    // and back: a result holding the spec survives the converter
    var back = converter.toPayload(spec).orElseThrow();
    assertEquals(spec, converter.fromPayload(back, RunSpec.class, RunSpec.class));
  }

  @Test
  void evaluationDuringTrainingSeenPromptsTagsAndRegisterTravelThroughTemporalsConverter() {
    var converter = DefaultDataConverter.newDefaultInstance();
    String json =
        "{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"smollm2-135m-instruct\","
            + "\"training\":{\"evalEverySteps\":5,\"earlyStoppingPatience\":3,"
            + "\"earlyStoppingMinDelta\":0.01},\"evaluation\":{\"numSeenPrompts\":4},"
            + "\"registry\":{\"register\":false},\"tags\":{\"mlflow.parentRunId\":\"abc\"}}";
    var payload =
        io.temporal.api.common.v1.Payload.newBuilder()
            .putMetadata("encoding", com.google.protobuf.ByteString.copyFromUtf8("json/plain"))
            .setData(com.google.protobuf.ByteString.copyFromUtf8(json))
            .build();
    RunSpec spec = converter.fromPayload(payload, RunSpec.class, RunSpec.class);
    assertEquals(List.of(), spec.problems());
    assertEquals(5, spec.training().evalEverySteps());
    assertEquals(3, spec.training().earlyStoppingPatience());
    assertEquals(0.01, spec.training().earlyStoppingMinDelta());
    assertEquals(4, spec.evaluation().numSeenPrompts());
    assertEquals(false, spec.registry().register());
    assertEquals(java.util.Map.of("mlflow.parentRunId", "abc"), spec.tags());
    var back = converter.toPayload(spec).orElseThrow();
    assertEquals(spec, converter.fromPayload(back, RunSpec.class, RunSpec.class));
    // results carry the best step and the seen-set scores
    TrainResult train =
        new TrainResult("runs/r/adapter/", 40, 1.2, java.util.Map.of(), null, "m", 30L, 1.1, true);
    assertEquals(
        train,
        converter.fromPayload(
            converter.toPayload(train).orElseThrow(), TrainResult.class, TrainResult.class));
    Scores sc = new Scores(0.5, 0.6, 0.1);
    EvalResult eval =
        new EvalResult(2, 1, 7.4, 2.7, sc, sc, 3, "j", "h", new SeenEval(2.1, 0.4, sc, sc, 4));
    assertEquals(
        eval,
        converter.fromPayload(
            converter.toPayload(eval).orElseThrow(), EvalResult.class, EvalResult.class));
  }

  @Test
  void badEvaluationDuringTrainingAndTagsAreNamed() {
    RunSpec spec =
        new RunSpec(
            null,
            "builtin:ecommerce-faq",
            null,
            "smollm2-135m-instruct",
            null,
            new TrainingSpec(
                null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, -1, 5000, -0.5),
            null,
            null,
            null,
            java.util.Map.of("loraflow.workflow_id", "forged"));
    String all = String.join("\n", spec.problems());
    assertTrue(all.contains("training.evalEverySteps must be in [0, 1000000], got -1"), all);
    assertTrue(all.contains("training.earlyStoppingPatience must be in [0, 1000], got 5000"), all);
    assertTrue(all.contains("training.earlyStoppingMinDelta must be in [0, 10]"), all);
    assertTrue(all.contains("tags has a bad key 'loraflow.workflow_id'"), all);
  }

  @Test
  void problemsNameFieldValueAndFix() {
    var spec =
        new RunSpec(
            "bad name!",
            "ftp://x/y",
            "xml",
            "gpt-9",
            "{q} only",
            new TrainingSpec(
                0, -1.0, null, null, 1.5, null, null, null, null, null, "bf17", null, "sgd", null,
                null),
            0.9,
            null,
            null);
    List<String> p = spec.problems();
    String all = String.join("\n", p);
    assertTrue(all.contains("runName 'bad name!'"), all);
    assertTrue(all.contains("unsupported scheme 'ftp'"), all);
    assertTrue(all.contains("datasetFormat must be one of"), all);
    assertTrue(all.contains("baseModel 'gpt-9' is not a known alias"), all);
    assertTrue(all.contains("template must"), all);
    assertTrue(all.contains("training.epochs must be in [1, 1000], got 0"), all);
    assertTrue(all.contains("training.learningRate must be in (0, 1], got -1.0"), all);
    assertTrue(all.contains("training.loraDropout"), all);
    assertTrue(all.contains("training.precision"), all);
    assertTrue(all.contains("training.optimizer"), all);
    assertTrue(all.contains("evalFraction must be in [0, 0.5], got 0.9"), all);
    assertEquals(11, p.size(), all);
  }

  @Test
  void datasetUris() {
    assertNull(DatasetUris.problem("file:/data/faq.json"));
    assertNull(DatasetUris.problem("https://example.com/faq.jsonl"));
    assertNull(DatasetUris.problem("s3://bucket/a/b.csv"));
    assertNull(DatasetUris.problem("hf://datasets/acme/faq"));
    assertNull(DatasetUris.problem("hf://datasets/acme/faq/train.jsonl"));
    assertNull(DatasetUris.problem("builtin:ecommerce-faq"));
    assertTrue(DatasetUris.problem("/data/faq.json").contains("use file:/data/faq.json"));
    assertTrue(DatasetUris.problem("s3://bucket").contains("s3://<bucket>/<key>"));
    assertTrue(DatasetUris.problem("hf://models/acme/x").contains("hf://datasets/"));
  }

  @Test
  void templates() {
    assertNull(RunSpec.templateProblem("default"));
    assertNull(RunSpec.templateProblem("chat"));
    assertNull(RunSpec.templateProblem("Q: {q}\nA: {a}"));
    assertTrue(RunSpec.templateProblem("A: {a} Q: {q}").contains("{q} before {a}"));
    assertTrue(RunSpec.templateProblem("Q: {q} {q} A: {a}").contains("exactly one"));
  }

  @Test
  void strictJsonRejectsUnknownFieldsByName() {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RunSpecJson.parseStrict(
                    "{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"smollm2-135m-instruct\","
                        + "\"training\":{\"epoch\":2}}"));
    assertTrue(e.getMessage().contains("unknown run spec field 'epoch'"), e.getMessage());
    var spec =
        RunSpecJson.parseStrict(
            "{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"smollm2-135m-instruct\"}");
    assertEquals(spec, RunSpecJson.parseStrict(RunSpecJson.write(spec)));
  }

  @Test
  void theShippedExampleSpellsOutExactlyTheDefaults() throws Exception {
    try (var in = getClass().getResourceAsStream("/examples/finetune-smollm2-faq.json")) {
      String json = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertEquals(
          RunSpec.of("builtin:ecommerce-faq", "smollm2-135m-instruct"),
          RunSpecJson.parseStrict(json));
    }
  }

  @Test
  void oneRegisteredModelPerBaseModelAndDatasetLineage() {
    var faq = RunSpec.of("builtin:ecommerce-faq", "smollm2-135m-instruct");
    var legal = RunSpec.of("s3://loraflow/data/legal-qa.jsonl", "smollm2-135m-instruct");
    var legalAgain = RunSpec.of("s3://loraflow/data/legal-qa.jsonl", "smollm2-135m-instruct");
    var other = RunSpec.of("s3://other/data/legal-qa.jsonl", "smollm2-135m-instruct");
    assertEquals("ecommerce-faq", faq.datasetLineage());
    assertTrue(legal.datasetLineage().matches("legal-qa-[0-9a-f]{8}"), legal.datasetLineage());
    assertEquals(legal.registeredModelName(), legalAgain.registeredModelName());
    assertNotEquals(faq.registeredModelName(), legal.registeredModelName());
    assertNotEquals(legal.registeredModelName(), other.registeredModelName());
    assertEquals(faq.experimentName(), legal.experimentName(), "one experiment per base model");
    assertTrue(legal.registeredModelName().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}"));
    var named =
        new RunSpec(
            null,
            "builtin:ecommerce-faq",
            null,
            "smollm2-135m-instruct",
            null,
            null,
            null,
            null,
            new RegistrySpec("my-model", null));
    assertEquals("my-model", named.registeredModelName());
  }

  @Test
  void workflowIds() {
    var now = Instant.parse("2026-11-28T13:05:09Z");
    var spec = RunSpec.of("builtin:ecommerce-faq", "smollm2-135m-instruct");
    String id = WorkflowIds.forRun(spec, now);
    assertTrue(id.matches("finetune-smollm2-135m-instruct-[0-9a-f]{8}-20261128-130509"), id);
    var named =
        new RunSpec(
            "Shop_FAQ.v2",
            "builtin:ecommerce-faq",
            null,
            "smollm2-135m-instruct",
            null,
            null,
            null,
            null,
            null);
    assertEquals("finetune-shop_faq.v2", WorkflowIds.forRun(named, now));
    String uriName = BaseModels.storageName("file:/models/Llama-3.2-1B/");
    assertTrue(uriName.matches("llama-3.2-1b-[0-9a-f]{8}"), uriName);
  }

  @Test
  void storageKeys() {
    String sha = "a".repeat(64);
    assertEquals("datasets/" + sha + "/data.jsonl", StorageKeys.datasetData(sha));
    assertEquals("runs/r1/checkpoints/step-40/", StorageKeys.checkpoint("r1", 40));
    assertEquals(
        40L, StorageKeys.checkpointStep("runs/r1/checkpoints/step-40/manifest.json").getAsLong());
    assertThrows(IllegalArgumentException.class, () -> StorageKeys.runPrefix("../etc"));
    assertThrows(IllegalArgumentException.class, () -> StorageKeys.datasetData("abc"));
  }
}
