package io.loraflow.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.model.DenseLinear;
import io.loraflow.engine.model.FixtureModel;
import io.loraflow.engine.model.Models;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class GeneratorTest {

  /** Token ids as text "[id]": unambiguous, so stop strings can be aimed at a token. */
  static final TokenCodec BRACKETS =
      TokenCodec.of(
          s -> {
            throw new UnsupportedOperationException();
          },
          ids -> Arrays.stream(ids).mapToObj(i -> "[" + i + "]").collect(Collectors.joining()));

  static List<String> fixtures() {
    return FixtureModel.all();
  }

  static CausalLM build(FixtureModel f) {
    return Models.build(
        f.source(),
        DenseLinear.factory(DataType.FLOAT32, Device.cpu()),
        DataType.FLOAT32,
        Device.cpu());
  }

  /** An EOS id that the reference continuation never produces (HF ran with eos disabled). */
  static List<Integer> unusedEos(long[] tokens) {
    for (int id = 1; ; id++) {
      final int candidate = id;
      if (Arrays.stream(tokens).noneMatch(t -> t == candidate)) {
        return List.of(candidate);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void greedyMatchesTransformersGenerate(String name) {
    FixtureModel f = FixtureModel.load(name);
    try (NDManager m = NDManager.newBaseManager(Device.cpu());
        CausalLM model = build(f)) {
      long[] prompt = f.expected("greedy_prompt", m).toLongArray();
      long[] expected = f.expected("greedy_tokens", m).toLongArray();
      GenerationConfig config =
          GenerationConfig.greedy(expected.length).withEosTokenIds(unusedEos(expected));
      GenerationResult result =
          new Generator(model, Device.cpu(), null)
              .generate(List.of(prompt), config, TokenListener.NONE);
      assertArrayEquals(expected, result.sequences().get(0).tokens(), name);
      assertEquals(Generation.Finish.LENGTH, result.sequences().get(0).finish());
    }
  }

  /**
   * One fixture per attention variant (GQA + biases, sliding window, tied MQA-free Llama,
   * multi-query, grouped Falcon). Dynamic NTK rope is not batch invariant by definition (HF
   * rescales by the batch's longest position).
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "llama_gqa_bias_llama3",
        "mistral_sliding",
        "smollm2_tied",
        "falcon_7b",
        "falcon_new_arch"
      })
  void batchedLeftPaddedEqualsOneByOne(String name) {
    FixtureModel f = FixtureModel.load(name);
    try (NDManager m = NDManager.newBaseManager(Device.cpu());
        CausalLM model = build(f)) {
      long[] ids = f.expected("input_ids", m).get(0).toLongArray();
      List<long[]> prompts =
          List.of(Arrays.copyOf(ids, 3), Arrays.copyOfRange(ids, 1, 8), Arrays.copyOf(ids, 5));
      Generator generator = new Generator(model, Device.cpu(), null);
      for (GenerationConfig config :
          List.of(
              GenerationConfig.greedy(6).withEosTokenIds(List.of(9999)),
              GenerationConfig.sampling(6, 0.9, 0.9, 20, 42)
                  .withRepetitionPenalty(1.2)
                  .withEosTokenIds(List.of(9999)))) {
        GenerationResult batched = generator.generate(prompts, config, TokenListener.NONE);
        for (int i = 0; i < prompts.size(); i++) {
          GenerationResult alone =
              generator.generate(List.of(prompts.get(i)), config, TokenListener.NONE);
          assertArrayEquals(
              alone.sequences().get(0).tokens(),
              batched.sequences().get(i).tokens(),
              name + " prompt " + i + " greedy=" + config.greedy());
        }
      }
    }
  }

  @Test
  void seededSamplingIsDeterministic() {
    FixtureModel f = FixtureModel.load("llama_mha");
    try (NDManager m = NDManager.newBaseManager(Device.cpu());
        CausalLM model = build(f)) {
      long[] prompt = f.expected("greedy_prompt", m).toLongArray();
      Generator generator = new Generator(model, Device.cpu(), null);
      GenerationConfig config =
          GenerationConfig.sampling(16, 1.0, 1.0, 0, 7).withEosTokenIds(List.of(9999));
      long[] a =
          generator
              .generate(List.of(prompt), config, TokenListener.NONE)
              .sequences()
              .get(0)
              .tokens();
      long[] b =
          generator
              .generate(List.of(prompt), config, TokenListener.NONE)
              .sequences()
              .get(0)
              .tokens();
      long[] c =
          generator
              .generate(List.of(prompt), config.withSeed(8), TokenListener.NONE)
              .sequences()
              .get(0)
              .tokens();
      assertArrayEquals(a, b);
      assertFalse(Arrays.equals(a, c), "a different seed should sample differently");
    }
  }

  @Test
  void stopsOnEosAndStopStringAndStreamsTheText() {
    FixtureModel f = FixtureModel.load("qwen2_bias");
    try (NDManager m = NDManager.newBaseManager(Device.cpu());
        CausalLM model = build(f)) {
      long[] prompt = f.expected("greedy_prompt", m).toLongArray();
      long[] expected = f.expected("greedy_tokens", m).toLongArray(); // [49, 123, 8, 123, 8, ...]
      Generator generator = new Generator(model, Device.cpu(), BRACKETS);

      GenerationConfig eos = GenerationConfig.greedy(8).withEosTokenIds(List.of((int) expected[2]));
      Generation byEos =
          generator.generate(List.of(prompt), eos, TokenListener.NONE).sequences().get(0);
      assertArrayEquals(Arrays.copyOf(expected, 2), byEos.tokens());
      assertEquals(Generation.Finish.EOS, byEos.finish());

      // stop string spanning two tokens: "]" + "[" + third token
      String stop = "][" + expected[2] + "]";
      List<String> deltas = new ArrayList<>();
      GenerationConfig stopCfg =
          GenerationConfig.greedy(8).withEosTokenIds(List.of(9999)).withStopStrings(List.of(stop));
      Generation byStop =
          generator
              .generate(List.of(prompt), stopCfg, (seq, id, delta) -> deltas.add(delta))
              .sequences()
              .get(0);
      assertEquals(Generation.Finish.STOP_STRING, byStop.finish());
      assertEquals("[" + expected[0] + "][" + expected[1], byStop.text());
      assertEquals(byStop.text(), String.join("", deltas), "streamed text = final text");
      assertArrayEquals(Arrays.copyOf(expected, 3), byStop.tokens());
    }
  }

  @Test
  void rejectsBadInput() {
    assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(0));
    assertThrows(
        IllegalArgumentException.class, () -> GenerationConfig.sampling(4, 0.0, 1.0, 0, 1));
    assertThrows(
        IllegalArgumentException.class, () -> GenerationConfig.sampling(4, 1.0, 1.5, 0, 1));
    FixtureModel f = FixtureModel.load("llama_mha");
    try (CausalLM model = build(f)) {
      Generator generator = new Generator(model, Device.cpu(), null);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  generator.generate(
                      List.of(new long[] {5, 500}),
                      GenerationConfig.greedy(2),
                      TokenListener.NONE));
      assertEquals("prompt 0 has token id 500 outside the vocabulary (size 128)", e.getMessage());
    }
  }
}
