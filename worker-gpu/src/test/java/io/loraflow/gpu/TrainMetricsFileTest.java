package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.engine.io.Fixtures;
import io.loraflow.engine.train.TrainCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --metrics FILE} writes one parseable JSON line per optimizer step of a real run. */
class TrainMetricsFileTest {

  @Test
  void oneJsonLinePerStep(@TempDir Path tmp) throws Exception {
    Path model = TinyRandomLlama.ensure(tmp.resolve("tiny"), Fixtures.smollm2Gguf());
    StringBuilder data = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      data.append("{\"question\":\"What is item ")
          .append(i)
          .append("?\",\"answer\":\"Item ")
          .append(i)
          .append(" is a box.\"}\n");
    }
    Path faq = Files.writeString(tmp.resolve("faq.jsonl"), data);
    Path metrics = tmp.resolve("metrics.jsonl");
    int code =
        TrainCommand.run(
            new String[] {
              "--model", model.toString(),
              "--data", faq.toString(),
              "--out", tmp.resolve("adapter").toString(),
              "--device", "cpu",
              "--epochs", "2",
              "--eval-fraction", "0",
              "--metrics", metrics.toString()
            });
    assertEquals(0, code);
    List<String> lines = Files.readAllLines(metrics);
    assertEquals(12, lines.size(), "6 examples x 2 epochs at batch 1: " + lines);
    ObjectMapper json = new ObjectMapper();
    for (int i = 0; i < lines.size(); i++) {
      JsonNode n = json.readTree(lines.get(i));
      assertEquals(i + 1, n.get("step").asInt());
      assertEquals(12, n.get("total_steps").asInt());
      assertTrue(n.get("loss").asDouble() > 0, lines.get(i));
      assertTrue(n.get("tokens_per_s").asDouble() > 0, lines.get(i));
    }
  }
}
