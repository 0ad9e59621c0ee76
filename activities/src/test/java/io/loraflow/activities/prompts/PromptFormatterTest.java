package io.loraflow.activities.prompts;

import static io.loraflow.activities.prompts.SmolTokenizerFixture.longs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraflow.activities.dataset.QaPair;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against SmolLM2's real tokenizer and HF transformers' encodings of the same text. */
class PromptFormatterTest {

  @TempDir static Path dir;
  static Path tokenizerJson;
  static JsonNode ref;
  static PromptFormatter formatter;

  static final long EOS = 2; // <|im_end|>, SmolLM2-Instruct's eos_token_id

  @BeforeAll
  static void setUp() throws Exception {
    tokenizerJson = SmolTokenizerFixture.tokenizerJson(dir);
    ref = SmolTokenizerFixture.reference();
    formatter = PromptFormatter.open(tokenizerJson, PromptTemplate.DEFAULT, EOS, 512);
  }

  @AfterAll
  static void tearDown() {
    formatter.close();
  }

  private static long[] concat(long[]... parts) {
    return Arrays.stream(parts).flatMapToLong(LongStream::of).toArray();
  }

  @Test
  void defaultTemplateTokensAndLabelsMatchTransformers() {
    JsonNode enc = ref.get("encodings");
    assertEquals(EOS, ref.get("eos_token_id").asLong());
    // fixture texts 0 and 1 are this example's prompt and answer as transformers saw them
    assertEquals(
        "<human>: How long does standard shipping take?\n<assistant>:",
        enc.get(0).get("text").asText());
    assertEquals(
        formatter.promptText("How long does standard shipping take?"),
        enc.get(0).get("text").asText());
    long[] prompt = longs(enc.get(0).get("with_special"));
    long[] answer = longs(enc.get(1).get("without_special"));

    TokenizedExample ex =
        formatter.tokenize(
            "How long does standard shipping take?",
            "Standard shipping takes 3-5 business days and costs $4.95.");
    assertArrayEquals(concat(prompt, answer, new long[] {EOS}), ex.inputIds());
    long[] masked = new long[prompt.length];
    Arrays.fill(masked, -100);
    assertArrayEquals(concat(masked, answer, new long[] {EOS}), ex.labels());
    assertEquals(answer.length + 1, ex.answerTokens());
    assertFalse(ex.truncated());
    // splitting at the prompt loses nothing against tokenizing the whole text in one piece
    assertArrayEquals(concat(longs(ref.get("joint_default_ids")), new long[] {EOS}), ex.inputIds());
  }

  @Test
  void chatMlTemplateRendersLikeTheModelsOwnChatTemplate() throws Exception {
    PromptTemplate chat = PromptTemplate.resolve("chat", ref.get("chat_template_source").asText());
    try (var f = PromptFormatter.open(tokenizerJson, chat, EOS, 512)) {
      assertEquals(ref.get("chat_rendered").asText(), f.promptText("Where is my order?"));
      assertArrayEquals(longs(ref.get("chat_rendered_ids")), f.encodePrompt("Where is my order?"));
      assertEquals(EOS, f.specialTokenId("<|im_end|>"));
      assertEquals(-1, f.specialTokenId("hello world"));
    }
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PromptTemplate.resolve("chat", "{{ bos_token }}[INST] {{ m }} [/INST]"));
    assertTrue(e.getMessage().contains("ChatML"), e.getMessage());
  }

  @Test
  void answerEosIsTheChatMlTurnEndElseTheModelsEos() throws Exception {
    PromptTemplate chat = PromptTemplate.resolve("chat", ref.get("chat_template_source").asText());
    // <|endoftext|> is id 0 in SmolLM2's vocabulary: a model whose metadata names it as EOS
    assertEquals(0, formatter.specialTokenId("<|endoftext|>"));
    assertEquals(2, PromptFormatter.answerEosId(tokenizerJson, chat, List.of(0)));
    assertEquals(0, PromptFormatter.answerEosId(tokenizerJson, PromptTemplate.DEFAULT, List.of(0)));
    assertEquals(2, PromptFormatter.answerEosId(tokenizerJson, PromptTemplate.DEFAULT, List.of()));
  }

  @Test
  void unicodeEncodesLikeTransformers() throws Exception {
    JsonNode enc = ref.get("encodings").get(2);
    try (var f =
        PromptFormatter.open(tokenizerJson, PromptTemplate.parse("custom", "{q}{a}"), EOS, 512)) {
      assertArrayEquals(longs(enc.get("with_special")), f.encodePrompt(enc.get("text").asText()));
    }
  }

  @Test
  void longExamplesAreCutAndCountedAndNothingIsCutBelowMaxSeqLen() throws Exception {
    String longAnswer = "word ".repeat(800).strip(); // ~800 tokens, over DJL's default 512
    TokenizedExample untouched = formatter.tokenize("q?", "short");
    try (var big = PromptFormatter.open(tokenizerJson, PromptTemplate.DEFAULT, EOS, 4096)) {
      TokenizedExample full = big.tokenize("q?", longAnswer);
      assertFalse(full.truncated());
      assertTrue(full.inputIds().length > 800, "tokenizer truncated: " + full.inputIds().length);
      assertEquals(EOS, full.inputIds()[full.inputIds().length - 1]);
    }
    try (var small = PromptFormatter.open(tokenizerJson, PromptTemplate.DEFAULT, EOS, 20)) {
      TokenizedExample cut = small.tokenize("q?", longAnswer);
      assertTrue(cut.truncated());
      assertEquals(20, cut.inputIds().length);
      assertNotEquals(EOS, cut.inputIds()[19]);
      assertTrue(cut.fullLength() > 800);

      // a prompt that fills maxSeqLen alone leaves no answer token: dropped and counted
      List<QaPair> pairs = new ArrayList<>();
      pairs.add(new QaPair("long question " + "x ".repeat(40), "a", 1, 1));
      for (int i = 0; i < 9; i++) {
        pairs.add(new QaPair("q" + i, "answer " + i, i + 2, i + 2));
      }
      var splits = small.format(pairs, 0.1, 42);
      assertEquals(1, splits.stats().dropped());
      assertEquals(9, splits.train().size() + splits.eval().size());
    }
    assertFalse(untouched.truncated());
  }

  @Test
  void seededSplitIsStableKeepsOrderAndReportsStats() throws Exception {
    List<QaPair> pairs = new ArrayList<>();
    for (int i = 0; i < 99; i++) {
      pairs.add(new QaPair("Question number " + i + "?", "Answer " + i + ".", i + 1, i + 1));
    }
    FormattedSplits a = formatter.format(pairs, 0.1, 42);
    FormattedSplits b = formatter.format(pairs, 0.1, 42);
    FormattedSplits c = formatter.format(pairs, 0.1, 7);
    assertEquals(10, a.eval().size()); // round(99 * 0.1)
    assertEquals(89, a.train().size());
    List<String> evalA = a.evalPrompts().stream().map(EvalPrompt::question).toList();
    assertEquals(evalA, b.evalPrompts().stream().map(EvalPrompt::question).toList());
    assertNotEquals(evalA, c.evalPrompts().stream().map(EvalPrompt::question).toList());
    // dataset order inside the split
    List<Integer> numbers =
        evalA.stream().map(q -> Integer.parseInt(q.replaceAll("\\D", ""))).toList();
    assertEquals(numbers.stream().sorted().toList(), numbers);
    EvalPrompt first = a.evalPrompts().get(0);
    assertEquals("<human>: " + first.question() + "\n<assistant>:", first.prompt());
    assertEquals("Answer " + numbers.get(0) + ".", first.reference());

    // the seen questions: every training pair, in train order, disjoint from the held-out ones
    assertEquals(a.train().size(), a.trainPrompts().size());
    List<String> seen = a.trainPrompts().stream().map(EvalPrompt::question).toList();
    assertTrue(seen.stream().noneMatch(evalA::contains));
    assertEquals(99, seen.size() + evalA.size());
    for (int i = 0; i < seen.size(); i++) {
      EvalPrompt p = a.trainPrompts().get(i);
      assertEquals(
          formatter.tokenize(p.question(), p.reference()).inputIds().length,
          a.train().get(i).inputIds().length);
    }

    var stats = a.stats();
    assertEquals("default", stats.template());
    assertEquals(0, stats.truncated());
    assertTrue(stats.meanLength() > 10 && stats.meanLength() < 40, "mean " + stats.meanLength());
    assertTrue(stats.p95Length() <= stats.maxLength());
    assertEquals(
        a.train().stream().mapToLong(TokenizedExample::answerTokens).sum(), stats.answerTokens());
  }

  @Test
  void jsonlLayoutOfContracts() throws Exception {
    var ex = new TokenizedExample(new long[] {5, 6, 2}, new long[] {-100, 6, 2}, 3, false);
    var out = new ByteArrayOutputStream();
    PromptFormatter.writeTokenized(List.of(ex), out);
    assertEquals(
        "{\"input_ids\":[5,6,2],\"labels\":[-100,6,2]}\n", out.toString(StandardCharsets.UTF_8));
    var back = PromptFormatter.readTokenized(out.toString(StandardCharsets.UTF_8));
    assertArrayEquals(ex.labels(), back.get(0).labels());
    var prompts = new ByteArrayOutputStream();
    PromptFormatter.writeEvalPrompts(List.of(new EvalPrompt("q", "r", "p")), prompts);
    assertEquals(
        "{\"question\":\"q\",\"reference\":\"r\",\"prompt\":\"p\"}\n",
        prompts.toString(StandardCharsets.UTF_8));
    Path file = java.nio.file.Files.createTempFile("eval-prompts", ".jsonl");
    try {
      java.nio.file.Files.write(file, prompts.toByteArray());
      assertEquals(List.of(new EvalPrompt("q", "r", "p")), PromptFormatter.readEvalPrompts(file));
      java.nio.file.Files.writeString(file, "{\"question\":\"q\",\"prompt\":\"p\"}\n");
      var e = assertThrows(IOException.class, () -> PromptFormatter.readEvalPrompts(file));
      assertTrue(e.getMessage().contains("line 1") && e.getMessage().contains("reference"));
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }

  @Test
  void customTemplatesMustEndWithTheAnswer() {
    var t = PromptTemplate.parse("custom", "Q: {q}\nA:  {a}");
    assertEquals("Q: hi\nA:", t.prompt("hi"));
    assertEquals("  yo", t.answer("yo"));
    assertThrows(IllegalArgumentException.class, () -> PromptTemplate.parse("c", "{a} {q}"));
    assertThrows(IllegalArgumentException.class, () -> PromptTemplate.parse("c", "{q} {a}!"));
  }
}
