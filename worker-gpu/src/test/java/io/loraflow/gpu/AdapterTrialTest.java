package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.io.Fixtures;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.lora.BaseFormat;
import io.loraflow.engine.lora.LoraConfig;
import io.loraflow.engine.lora.LoraLinear;
import io.loraflow.engine.lora.PeftAdapter;
import io.loraflow.engine.model.AttentionStep;
import io.loraflow.engine.session.ModelSession;
import io.loraflow.engine.tokenizer.TextTokenizer;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.TryRequest;
import io.loraflow.workflows.TryResult;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The try-an-adapter core on the real engine (CPU, fp32): the tiny random Llama with SmolLM2's
 * tokenizer and a real PEFT adapter written by {@link PeftAdapter#save}. Its greedy answer is
 * checked against a naive reference decode (full forward pass per token, no KV cache, argmax) of
 * the same adapted model, and against the base model's answer, which it must differ from.
 */
class AdapterTrialTest {

  @TempDir static Path work;
  static Path model;
  static Path adapter;
  static Path zeroAdapter;
  static BaseModelRef ref;

  /** What formatPrompts produces for a question (the default template's generation prompt). */
  static final String PROMPT = "<human>: How long does shipping take?\n<assistant>:";

  @BeforeAll
  static void tinyModelAndAdapters() throws Exception {
    model = TinyRandomLlama.ensure(work.resolve("tiny-llama-random"), Fixtures.smollm2Gguf());
    adapter = writeAdapter(model, work.resolve("adapter"), 0.5f);
    zeroAdapter = writeAdapter(model, work.resolve("adapter-zero"), 0f);
    try (ModelFiles files = ModelFiles.open(model)) {
      ref =
          new BaseModelRef(
              "tiny-llama-random",
              "tiny-llama-random",
              "models/tiny-llama-random/",
              "models/tiny-llama-random/tokenizer.json",
              null,
              files.eosTokenIds(),
              "llama");
    }
  }

  /**
   * A PEFT adapter of {@code model} on q_proj/v_proj with every B drawn from N(0, std^2) (std 0:
   * the base).
   */
  static Path writeAdapter(Path model, Path dir, float std) throws Exception {
    LoraConfig lora = LoraConfig.of(4, 8, 0.0, List.of("q_proj", "v_proj"));
    try (ModelFiles files = ModelFiles.open(model);
        ModelSession s =
            ModelSession.withLora(files, lora, BaseFormat.NF4, DataType.FLOAT32, Device.cpu(), 3)) {
      Random rng = new Random(11);
      for (LoraLinear l : s.loraModules().values()) {
        float[] b = new float[(int) l.loraB().size()];
        for (int i = 0; i < b.length; i++) {
          b[i] = (float) rng.nextGaussian() * std;
        }
        l.loraB().set(b);
      }
      PeftAdapter.save(dir, s.loraModules(), s.linears(), lora, "tiny-llama-random");
    }
    return dir;
  }

  static TryRequest request(String prompt, int maxNewTokens, double temperature, long seed) {
    return new TryRequest(
        "finetune-test",
        ref,
        "runs/finetune-test/adapter/",
        prompt,
        maxNewTokens,
        temperature,
        seed,
        "fp32");
  }

  /** Greedy tokens by a full forward pass per new token (no KV cache), with the adapter loaded. */
  static List<Long> referenceGreedy(Path adapterDir, String prompt, int maxNewTokens)
      throws Exception {
    try (ModelFiles files = ModelFiles.open(model);
        TextTokenizer tok = files.tokenizer();
        ModelSession s =
            ModelSession.withAdapter(files, adapterDir, DataType.FLOAT32, Device.cpu());
        NDManager m = NDManager.newBaseManager(Device.cpu())) {
      s.useAdapter();
      List<Long> ids = new ArrayList<>();
      for (long id : tok.encode(prompt, true)) {
        ids.add(id);
      }
      List<Long> out = new ArrayList<>();
      for (int n = 0; n < maxNewTokens; n++) {
        try (NDManager step = m.newSubManager()) {
          long[] seq = ids.stream().mapToLong(Long::longValue).toArray();
          NDArray input = step.create(seq).reshape(1, seq.length);
          NDArray positions = step.arange(0, seq.length, 1, DataType.INT64).reshape(1, seq.length);
          float[] logits =
              s.model()
                  .forward(input, new AttentionStep(positions, null, null))
                  .get(0, seq.length - 1)
                  .toFloatArray();
          int best = 0;
          for (int v = 1; v < logits.length; v++) {
            if (logits[v] > logits[best]) {
              best = v;
            }
          }
          out.add((long) best);
          ids.add((long) best);
          if (ref.eosTokenIds().contains(best)) {
            break;
          }
        }
      }
      return out;
    }
  }

  static String decode(List<Long> tokens) {
    try (ModelFiles files = ModelFiles.open(model);
        TextTokenizer tok = files.tokenizer()) {
      return tok.decode(tokens.stream().mapToLong(Long::longValue).toArray(), true).strip();
    }
  }

  @Test
  void greedyAnswerIsTheAdaptedModelsArgmaxDecode() throws Exception {
    AtomicInteger checks = new AtomicInteger();
    TryResult got =
        AdapterTrial.answer(
            model, adapter, request(PROMPT, 8, 0, 42), Device.cpu(), checks::incrementAndGet);
    List<Long> expected = referenceGreedy(adapter, PROMPT, 8);
    assertEquals(decode(expected), got.answer());
    assertEquals(expected.size(), got.newTokens());
    try (ModelFiles files = ModelFiles.open(model);
        TextTokenizer tok = files.tokenizer()) {
      assertEquals(tok.encode(PROMPT, true).length, got.promptTokens());
    }
    assertEquals(got.newTokens() < 8, got.stoppedAtEos());
    assertEquals(1, checks.get(), "the cancellation check runs once, after loading");
    assertTrue(got.seconds() > 0 && got.seconds() < 120, "seconds " + got.seconds());

    // the same files with every B = 0 answer as the base model does, which is not this answer
    TryResult base =
        AdapterTrial.answer(model, zeroAdapter, request(PROMPT, 8, 0, 42), Device.cpu(), () -> {});
    assertEquals(decode(referenceGreedy(zeroAdapter, PROMPT, 8)), base.answer());
    assertNotEquals(base.answer(), got.answer(), "the adapter must change the answer");
  }

  @Test
  void samplingIsSeeded() {
    TryResult a =
        AdapterTrial.answer(model, adapter, request(PROMPT, 12, 1.5, 7), Device.cpu(), () -> {});
    TryResult b =
        AdapterTrial.answer(model, adapter, request(PROMPT, 12, 1.5, 7), Device.cpu(), () -> {});
    assertEquals(a.answer(), b.answer(), "same seed, same answer");
    boolean differs = false;
    for (long seed = 8; seed < 12 && !differs; seed++) {
      differs =
          !a.answer()
              .equals(
                  AdapterTrial.answer(
                          model, adapter, request(PROMPT, 12, 1.5, seed), Device.cpu(), () -> {})
                      .answer());
    }
    assertTrue(differs, "at temperature 1.5 another seed gives another answer");
  }

  @Test
  void aCancellationAfterLoadingStopsBeforeGenerating() {
    RuntimeException stop = new IllegalStateException("cancelled");
    RuntimeException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                AdapterTrial.answer(
                    model,
                    adapter,
                    request(PROMPT, 8, 0, 42),
                    Device.cpu(),
                    () -> {
                      throw stop;
                    }));
    assertEquals(stop, e);
  }

  @Test
  void requestsThatCannotBeAnsweredAreNonRetryableAndSayWhy() {
    for (var bad :
        List.of(
            List.of(request(" ", 8, 0, 1), "non-blank prompt"),
            List.of(request(null, 8, 0, 1), "non-blank prompt"),
            List.of(request(PROMPT, 0, 0, 1), "maxNewTokens 0 is outside [1, 512]"),
            List.of(request(PROMPT, 513, 0, 1), "maxNewTokens 513 is outside [1, 512]"),
            List.of(request(PROMPT, 8, Double.NaN, 1), "temperature NaN is outside [0, 2]"),
            List.of(request(PROMPT, 8, -1, 1), "temperature -1.0 is outside [0, 2]"))) {
      TryRequest req = (TryRequest) bad.get(0);
      ApplicationFailure f =
          assertThrows(
              ApplicationFailure.class,
              () -> AdapterTrial.answer(model, adapter, req, Device.cpu(), () -> {}));
      assertEquals(FailureTypes.INVALID_RUN_SPEC, f.getType());
      assertTrue(f.isNonRetryable());
      assertTrue(f.getOriginalMessage().contains((String) bad.get(1)), f.getOriginalMessage());
    }
  }

  @Test
  void anAdapterOfAnotherShapeIsRefusedWithItsModuleNamed() throws Exception {
    Path falcon = work.resolve("adapter-falcon");
    java.nio.file.Files.createDirectories(falcon);
    // the adapter's targets name Falcon's fused module, absent from this Llama
    String config =
        java.nio.file.Files.readString(adapter.resolve(PeftAdapter.CONFIG_FILE))
            .replace("\"q_proj\"", "\"query_key_value\"");
    java.nio.file.Files.writeString(falcon.resolve(PeftAdapter.CONFIG_FILE), config);
    java.nio.file.Files.copy(
        adapter.resolve("adapter_model.safetensors"), falcon.resolve("adapter_model.safetensors"));
    RuntimeException e =
        assertThrows(
            RuntimeException.class,
            () ->
                AdapterTrial.answer(
                    model, falcon, request(PROMPT, 8, 0, 42), Device.cpu(), () -> {}));
    assertTrue(String.valueOf(e.getMessage()).contains("query_key_value"), e.getMessage());
  }
}
