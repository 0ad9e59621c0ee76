package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad command lines fail with exit code 2 and a message naming the value, before any loading. */
class TrainCommandTest {

  private static String[] run(String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      int code = TrainCommand.run(args);
      return new String[] {String.valueOf(code), buf.toString(StandardCharsets.UTF_8)};
    } finally {
      System.setErr(saved);
    }
  }

  @Test
  void rejectsBadValuesBeforeLoading(@TempDir Path tmp) throws Exception {
    Path data =
        Files.writeString(tmp.resolve("faq.jsonl"), "{\"question\":\"q?\",\"answer\":\"a.\"}\n");
    // the model path does not exist: a message about it would mean it was opened first
    String model = tmp.resolve("missing.gguf").toString();
    String out = tmp.resolve("adapter").toString();
    String[] r =
        run(
            "--model",
            model,
            "--data",
            data.toString(),
            "--out",
            out,
            "--r",
            "0",
            "--device",
            "cpu");
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("rank r must be > 0, got 0"), r[1]);
    r =
        run(
            "--model",
            model,
            "--data",
            data.toString(),
            "--out",
            out,
            "--lr",
            "0",
            "--device",
            "cpu");
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("learning rate must be > 0, got 0.0"), r[1]);
    r = run("--model", model, "--data", data.toString(), "--out", out, "--device", "cpu");
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("missing.gguf"), r[1]);
    r = run("--data", data.toString(), "--out", out);
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("--model is required"), r[1]);
  }
}
