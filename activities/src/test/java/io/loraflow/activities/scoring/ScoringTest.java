package io.loraflow.activities.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Against reference values from rouge-score, the official SQuAD v2.0 script and torch's
 * cross_entropy (src/test/python/make_scoring_fixture.py).
 */
class ScoringTest {

  private static JsonNode fixture() throws IOException {
    try (InputStream in =
        ScoringTest.class.getResourceAsStream("/fixtures/scoring-reference.json")) {
      return new ObjectMapper().readTree(in);
    }
  }

  @Test
  void rougeLTokenF1AndExactMatchEqualTheReferences() throws IOException {
    JsonNode cases = fixture().get("cases");
    assertTrue(cases.size() >= 10);
    for (JsonNode c : cases) {
      String ref = c.get("reference").asText();
      String pred = c.get("prediction").asText();
      String what = "ref='" + ref + "' pred='" + pred + "'";
      RougeL.Score r = RougeL.score(ref, pred);
      assertEquals(c.get("rougeL_precision").asDouble(), r.precision(), 1e-12, what);
      assertEquals(c.get("rougeL_recall").asDouble(), r.recall(), 1e-12, what);
      assertEquals(c.get("rougeL_f").asDouble(), r.fmeasure(), 1e-12, what);
      assertEquals(c.get("token_f1").asDouble(), SquadMetrics.tokenF1(ref, pred), 1e-12, what);
      assertEquals(c.get("exact_match").asDouble(), SquadMetrics.exactMatch(ref, pred), 0, what);
      assertEquals(c.get("normalized_reference").asText(), SquadMetrics.normalize(ref), what);
    }
  }

  @Test
  void meansAverageAnswers() throws IOException {
    JsonNode cases = fixture().get("cases");
    List<String> refs = new ArrayList<>();
    List<String> preds = new ArrayList<>();
    double rouge = 0;
    for (JsonNode c : cases) {
      refs.add(c.get("reference").asText());
      preds.add(c.get("prediction").asText());
      rouge += c.get("rougeL_f").asDouble();
    }
    assertEquals(rouge / cases.size(), AnswerScorer.meanOf(refs, preds).rougeL(), 1e-12);
  }

  @Test
  void evalLossIsTokenWeightedLikeOneCrossEntropyOverAllTokens() throws IOException {
    JsonNode loss = fixture().get("eval_loss");
    EvalLoss agg = new EvalLoss();
    double meanOfMeans = 0;
    for (JsonNode b : loss.get("batches")) {
      agg.addMean(b.get("mean_loss").asDouble(), b.get("tokens").asLong());
      meanOfMeans += b.get("mean_loss").asDouble() / loss.get("batches").size();
    }
    assertEquals(loss.get("mean").asDouble(), agg.mean(), 1e-5);
    assertEquals(loss.get("perplexity").asDouble(), agg.perplexity(), 1e-4);
    // the fixture's batches differ in size, so the naive mean of means is measurably off
    assertTrue(Math.abs(meanOfMeans - agg.mean()) > 1e-3);
  }
}
