package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class AnswerTableTest {

  @Test
  void findsTheRowsInAReportWhateverTheNesting() throws Exception {
    // the shape of io.loraflow.gpu.EvalReport's JSON (runs/<id>/eval/report.json)
    String report =
        """
        {"runId": "finetune-x", "baseModel": "smollm2-135m-instruct",
         "result": {"baseEvalLoss": 2.1, "adapterEvalLoss": 1.2,
                    "base": {"rougeL": 0.1, "tokenF1": 0.2, "exactMatch": 0.0},
                    "adapter": {"rougeL": 0.4, "tokenF1": 0.5, "exactMatch": 0.0}},
         "rows": [
           {"question": "How long does shipping take?", "reference": "3-5 business days.",
            "baseAnswer": "It depends.", "adapterAnswer": "Shipping takes 3-5 business days.",
            "baseScores": {"rougeL": 0.1, "tokenF1": 0.1, "exactMatch": 0.0},
            "adapterScores": {"rougeL": 0.8, "tokenF1": 0.8, "exactMatch": 0.0}}]}
        """;
    List<AnswerTable.Row> rows = AnswerTable.rowsOf(new ObjectMapper().readTree(report));
    assertEquals(
        List.of(
            new AnswerTable.Row(
                "How long does shipping take?",
                "3-5 business days.",
                "It depends.",
                "Shipping takes 3-5 business days.")),
        rows);
  }

  @Test
  void reportWithoutAnswersGivesNoRows() throws Exception {
    assertTrue(AnswerTable.rowsOf(new ObjectMapper().readTree("{\"loss\": [1, 2]}")).isEmpty());
  }

  @Test
  void wrapsIntoColumnsAndMarksCutText() {
    assertEquals(List.of("one two", "three"), AnswerTable.wrap("one two three", 8, 5));
    assertEquals(List.of("one two", "three…"), AnswerTable.wrap("one two three four five", 8, 2));
    assertEquals(List.of(""), AnswerTable.wrap(null, 8, 2));
  }

  @Test
  void everyLineFitsTheWidth() {
    AnswerTable.Row row =
        new AnswerTable.Row(
            "What is the return policy for items bought on sale during the holiday season?",
            "Sale items can be returned within 30 days with a receipt.",
            "I am an AI language model and cannot know the return policy of your store.",
            "Sale items can be returned within 30 days if you have the receipt.");
    String table = AnswerTable.render(List.of(row, row), 80, 1, 3);
    for (String line : table.split("\n")) {
      assertTrue(line.length() <= 80, line.length() + ": " + line);
    }
    assertEquals(1, table.split("Q: ", -1).length - 1); // maxRows = 1
  }
}
