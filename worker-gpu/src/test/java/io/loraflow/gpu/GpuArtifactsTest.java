package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.engine.io.Fixtures;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.model.ModelConfig;
import io.loraflow.workflows.EvalResult;
import io.loraflow.workflows.Scores;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GPU worker's own files: loss curve, eval report, the generated tiny model. */
class GpuArtifactsTest {
  @TempDir Path tmp;

  @Test
  void lossCurveIsAPngOfTheStatedSize() throws Exception {
    byte[] png =
        LossCurve.png(
            "t",
            List.of(
                new LossCurve.Point(1, 3.0),
                new LossCurve.Point(2, Double.NaN),
                new LossCurve.Point(3, 1.5)));
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertEquals(800, img.getWidth());
    assertEquals(450, img.getHeight());
  }

  @Test
  void evalReportRoundTripsAndEscapesHtml() throws Exception {
    EvalResult result =
        new EvalResult(
            2.0,
            1.5,
            Math.exp(2.0),
            Math.exp(1.5),
            new Scores(0.1, 0.2, 0),
            new Scores(0.4, 0.5, 0.25),
            1,
            "runs/r/eval/report.json",
            "runs/r/eval/report.html");
    EvalReport report =
        new EvalReport(
            "r",
            "tiny-llama-random",
            result,
            List.of(
                new EvalReport.Row(
                    "<script>x</script>?",
                    "ref",
                    "base & co",
                    "adapter",
                    new Scores(0.1, 0.2, 0),
                    new Scores(0.4, 0.5, 0.25))));
    assertEquals(report, EvalReport.fromJson(report.toJson()));
    String html = new String(report.toHtml(), StandardCharsets.UTF_8);
    assertFalse(html.contains("<script>x"), html);
    assertTrue(html.contains("&lt;script&gt;x&lt;/script&gt;?"));
    assertTrue(html.contains("base &amp; co"));
    assertTrue(html.contains("-25.0%"), "relative loss change (1.5 - 2) / 2");
  }

  @Test
  void evalReportHasTheSeenQuestionsBesideTheHeldOutOnes() throws Exception {
    Scores low = new Scores(0.1, 0.2, 0);
    Scores high = new Scores(0.9, 0.8, 0.5);
    EvalResult result =
        new EvalResult(
            2.0,
            1.5,
            Math.exp(2.0),
            Math.exp(1.5),
            low,
            low,
            1,
            "runs/r/eval/report.json",
            "runs/r/eval/report.html",
            new io.loraflow.workflows.SeenEval(2.1, 0.3, low, high, 1));
    EvalReport.Row heldOut = new EvalReport.Row("held?", "ref", "b", "a", low, low);
    EvalReport.Row seen =
        new EvalReport.Row(
            "How do I create an account?", "Click Sign up.", "?", "Sign up", low, high);
    EvalReport report = new EvalReport("r", "tiny", result, List.of(heldOut), List.of(seen));
    EvalReport back = EvalReport.fromJson(report.toJson());
    assertEquals(report, back);
    assertEquals(0.3, back.result().seen().adapterLoss());
    String html = new String(report.toHtml(), StandardCharsets.UTF_8);
    int heldOutAt = html.indexOf("Held-out answers");
    int seenAt = html.indexOf("Seen answers (training questions)");
    assertTrue(heldOutAt > 0 && seenAt > heldOutAt, html);
    assertTrue(html.substring(seenAt).contains("How do I create an account?"), html);
    assertTrue(html.contains("Seen questions (a sample of the training set)"), html);
    assertTrue(html.contains("0.9000"), "seen ROUGE-L of the adapter");
    // a report written before the seen section existed still reads
    String old =
        new String(report.toJson(), StandardCharsets.UTF_8)
            .replaceAll("(?s),\\s*\"seenRows\"\\s*:\\s*\\[.*?\\]\\s*(?=\\}\\s*$)", "");
    assertTrue(!old.contains("seenRows"), old);
    assertEquals(List.of(), EvalReport.fromJson(old.getBytes(StandardCharsets.UTF_8)).seenRows());
  }

  @Test
  void tinyRandomLlamaIsDeterministicAndLoadsAsAnHfDirectory() throws Exception {
    Path smol = Fixtures.smollm2Gguf(); // honors LORAFLOW_SMOLLM2_GGUF / LORAFLOW_MODELS_DIR
    Path a = TinyRandomLlama.ensure(tmp.resolve("a"), smol);
    Path b = TinyRandomLlama.ensure(tmp.resolve("b"), smol);
    assertArrayEquals(
        Files.readAllBytes(a.resolve("model.safetensors")),
        Files.readAllBytes(b.resolve("model.safetensors")));
    try (ModelFiles files = ModelFiles.open(a)) {
      ModelConfig c = files.config();
      assertEquals(ModelConfig.Family.LLAMA, c.family());
      assertEquals(2, c.numLayers());
      assertEquals(64, c.hiddenSize());
      assertEquals(2, c.numKvHeads());
      assertTrue(c.tieWordEmbeddings());
      assertEquals(49152, c.vocabSize());
      assertEquals(2 + 2 * 9, files.weights().names().size());
      assertTrue(files.chatTemplate().orElseThrow().contains("<|im_start|>"));
    }
  }
}
