package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.engine.io.Fixtures;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.infra.StackSettings;
import io.loraflow.infra.TemporalConnection;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.BaseModelRequest;
import io.loraflow.workflows.BaseModels;
import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.GpuActivities;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** prepareBaseModel against the real MinIO and the real model files on this machine. */
class PrepareBaseModelIT {
  static ObjectStore store;
  static Tracking tracking;
  static TemporalConnection temporal;
  @TempDir static Path work;

  static TestActivityEnvironment env;
  static GpuActivities activities;

  @BeforeAll
  static void setUp() {
    StackSettings stack = StackSettings.load().requireReachable(Duration.ofSeconds(2));
    store = ObjectStore.connect(stack);
    tracking = Tracking.connect(stack, store);
    temporal = TemporalConnection.open(stack, Duration.ofSeconds(10));
    GpuSettings settings =
        GpuSettings.load(
            Map.of(
                "LORAFLOW_GPU_WORK_DIR",
                work.toString(),
                "LORAFLOW_DEVICE",
                "cpu",
                "LORAFLOW_MODELS_DIR",
                workerModelsDir(work.resolve("models")).toString()));
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(
        new GpuActivitiesImpl(settings, store, tracking, temporal.client()));
    activities =
        env.newActivityStub(
            GpuActivities.class,
            io.temporal.activity.ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(5))
                .setHeartbeatTimeout(Duration.ofSeconds(60))
                .build());
  }

  /**
   * A models dir in the GPU worker's layout that holds the SmolLM2 GGUF the tests use: with
   * $LORAFLOW_SMOLLM2_GGUF set, {@code scratch} with a link to that file; else $LORAFLOW_MODELS_DIR
   * (or the cache's models dir, ./loraflow's default). Fails naming the path when the file is
   * absent.
   */
  static Path workerModelsDir(Path scratch) {
    Path gguf = Fixtures.smollm2Gguf();
    String env = System.getenv("LORAFLOW_MODELS_DIR");
    Path dir = env != null && !env.isBlank() ? Path.of(env) : Fixtures.cacheDir().resolve("models");
    if (System.getenv("LORAFLOW_SMOLLM2_GGUF") == null
        && Files.isRegularFile(dir.resolve(BaseModelSources.SMOLLM2_GGUF))) {
      return dir;
    }
    try {
      Path link = scratch.resolve(BaseModelSources.SMOLLM2_GGUF);
      Files.createDirectories(link.getParent());
      Files.deleteIfExists(link);
      Files.createSymbolicLink(link, gguf.toAbsolutePath());
      return scratch;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot link " + gguf + " into " + scratch, e);
    }
  }

  @AfterAll
  static void tearDown() {
    env.close();
    temporal.close();
    tracking.close();
    store.close();
  }

  @Test
  void tinyRandomLlamaIsCachedWithTokenizerAndChatTemplate() throws Exception {
    String name = BaseModels.storageName("tiny-llama-random");
    new PrefixPublisher(store).delete("models/" + name);

    BaseModelRef ref = activities.prepareBaseModel(new BaseModelRequest("tiny-llama-random", name));

    assertEquals("models/tiny-llama-random/", ref.modelKey());
    assertEquals("models/tiny-llama-random/tokenizer.json", ref.tokenizerKey());
    assertEquals("llama", ref.architecture());
    assertFalse(ref.eosTokenIds().isEmpty());
    assertNotNull(ref.chatTemplate());
    assertTrue(ref.chatTemplate().contains("<|im_start|>"), ref.chatTemplate());
    assertTrue(new PrefixPublisher(store).readComplete("models/tiny-llama-random").isPresent());
    for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
      assertTrue(store.exists("models/tiny-llama-random/" + f), f);
    }
    JsonNode tokCfg =
        new ObjectMapper()
            .readTree(store.getBytes("models/tiny-llama-random/tokenizer_config.json"));
    assertEquals(ref.chatTemplate(), tokCfg.path("chat_template").asText());
    JsonNode cfg =
        new ObjectMapper().readTree(store.getBytes("models/tiny-llama-random/config.json"));
    assertEquals(2, cfg.path("num_hidden_layers").asInt());

    // a second call (a retry) finds the cache entry and writes nothing
    var before = store.stat("models/tiny-llama-random/manifest.json").orElseThrow().lastModified();
    BaseModelRef again =
        activities.prepareBaseModel(new BaseModelRequest("tiny-llama-random", name));
    assertEquals(ref, again);
    assertEquals(
        before, store.stat("models/tiny-llama-random/manifest.json").orElseThrow().lastModified());
  }

  @Test
  void smolLm2GgufIsCachedWithItsConvertedTokenizer() {
    Path gguf = Fixtures.smollm2Gguf(); // the file the worker's models dir holds
    BaseModelRef ref =
        activities.prepareBaseModel(
            new BaseModelRequest("smollm2-135m-instruct", "smollm2-135m-instruct"));
    assertEquals("models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf", ref.modelKey());
    assertEquals(store.stat(ref.modelKey()).orElseThrow().size(), gguf.toFile().length());
    assertTrue(store.exists("models/smollm2-135m-instruct/tokenizer.json"));
    assertTrue(ref.chatTemplate().contains("<|im_start|>"));
  }

  @Test
  void unknownAliasFailsWithoutRetry() {
    ActivityFailure f =
        assertThrows(
            ActivityFailure.class,
            () -> activities.prepareBaseModel(new BaseModelRequest("gpt-17", "gpt-17")));
    ApplicationFailure cause = (ApplicationFailure) f.getCause();
    assertEquals(FailureTypes.UNKNOWN_BASE_MODEL, cause.getType());
    assertTrue(cause.isNonRetryable());
    assertTrue(cause.getOriginalMessage().contains("gpt-17"), cause.getOriginalMessage());
  }
}
