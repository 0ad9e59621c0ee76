package io.loraflow.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class GenerateCommandTest {

  static final String MODEL = "src/test/resources/models/llama_mha";

  @Test
  void parsesSamplingOptions() {
    GenerateCommand.Options o =
        GenerateCommand.parse(
            new String[] {
              "--model",
              MODEL,
              "--prompt",
              "hi",
              "--chat",
              "--max-new-tokens",
              "7",
              "--temperature",
              "0.8",
              "--top-p",
              "0.9",
              "--top-k",
              "40",
              "--repetition-penalty",
              "1.1",
              "--seed",
              "3",
              "--stop",
              "\n\n",
              "--dtype",
              "fp16"
            });
    GenerationConfig g = o.generation();
    assertTrue(o.chat());
    assertEquals(DataType.FLOAT16, o.dtype());
    assertFalse(g.greedy());
    assertEquals(7, g.maxNewTokens());
    assertEquals(0.8, g.temperature());
    assertEquals(0.9, g.topP());
    assertEquals(40, g.topK());
    assertEquals(1.1, g.repetitionPenalty());
    assertEquals(3, g.seed());
    assertEquals(java.util.List.of("\n\n"), g.stopStrings());
  }

  @Test
  void greedyByDefaultOnCpuInFp32() {
    GenerateCommand.Options o =
        GenerateCommand.parse(new String[] {"--model", MODEL, "--prompt", "hi"});
    assertTrue(o.generation().greedy());
    assertEquals(DataType.FLOAT32, o.dtype());
    assertFalse(o.chat());
  }

  @Test
  void badUsageExitsWith2AndSaysWhy() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        GenerateCommand.run(
            new String[] {"--model", MODEL, "--prompt", "x", "--top-p", "1.5"},
            new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, code);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("topP must be in (0, 1], got 1.5"));

    err.reset();
    code =
        GenerateCommand.run(
            new String[] {"--model", "/no/such/model", "--prompt", "x"},
            new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, code);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("/no/such/model: no such file"));
  }

  @Test
  void missingTokenizerIsAClearFailure() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        GenerateCommand.run(
            new String[] {"--model", MODEL, "--prompt", "x"},
            new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(1, code);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("no tokenizer.json"), err.toString());
  }
}
