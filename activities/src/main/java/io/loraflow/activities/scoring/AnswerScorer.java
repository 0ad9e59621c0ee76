package io.loraflow.activities.scoring;

import io.loraflow.workflows.Scores;
import java.util.List;

/** Scores generated answers against references and averages them into {@link Scores}. */
public final class AnswerScorer {

  /** Scores of one answer. */
  public record Scored(double rougeL, double tokenF1, double exactMatch) {}

  private AnswerScorer() {}

  public static Scored score(String reference, String prediction) {
    return new Scored(
        RougeL.score(reference, prediction).fmeasure(),
        SquadMetrics.tokenF1(reference, prediction),
        SquadMetrics.exactMatch(reference, prediction));
  }

  /** Unweighted means over the answers; all 0 for none. */
  public static Scores mean(List<Scored> scored) {
    if (scored.isEmpty()) {
      return new Scores(0, 0, 0);
    }
    double r = 0;
    double f = 0;
    double e = 0;
    for (Scored s : scored) {
      r += s.rougeL();
      f += s.tokenF1();
      e += s.exactMatch();
    }
    int n = scored.size();
    return new Scores(r / n, f / n, e / n);
  }

  /** Scores and averages parallel lists of references and predictions. */
  public static Scores meanOf(List<String> references, List<String> predictions) {
    if (references.size() != predictions.size()) {
      throw new IllegalArgumentException(
          references.size() + " references but " + predictions.size() + " predictions");
    }
    return mean(
        java.util.stream.IntStream.range(0, references.size())
            .mapToObj(i -> score(references.get(i), predictions.get(i)))
            .toList());
  }
}
