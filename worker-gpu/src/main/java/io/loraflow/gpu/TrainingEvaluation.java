package io.loraflow.gpu;

import io.loraflow.engine.train.EvalMetrics;
import io.loraflow.engine.train.Example;
import io.loraflow.engine.train.TokenizedDataset;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.mlflow.MetricPoint;
import io.loraflow.workflows.PromptsRef;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The train activity's side of evaluation during training: the held-out split for the trainer's
 * evaluator hook, the MLflow series of each evaluation (keys {@code eval/loss}, {@code
 * eval/best_loss}, beside {@code train/loss}), and the summary of the best step.
 */
final class TrainingEvaluation {
  private TrainingEvaluation() {}

  /** MLflow key of the held-out loss series during training. */
  static final String EVAL_LOSS = "eval/loss";

  /** MLflow key of the best held-out loss so far, per evaluation. */
  static final String EVAL_BEST_LOSS = "eval/best_loss";

  /** The held-out split (eval.jsonl) of the run, empty when the run holds nothing out. */
  static List<Example> heldOut(ObjectStore store, PromptsRef prompts, Path work, int maxSeqLen)
      throws IOException {
    if (prompts.evalKey() == null
        || prompts.stats() != null && prompts.stats().evalExamples() == 0) {
      return List.of();
    }
    Path local = work.resolve("eval.jsonl");
    store.download(prompts.evalKey(), local);
    return TokenizedDataset.read(local, maxSeqLen).examples();
  }

  static List<MetricPoint> points(EvalMetrics e) {
    long now = System.currentTimeMillis();
    return List.of(
        new MetricPoint(EVAL_LOSS, e.loss(), e.step(), now),
        new MetricPoint(EVAL_BEST_LOSS, e.bestLoss(), e.step(), now));
  }

  /** Adds best_step, best_eval_loss, stopped_early and evaluations to the training summary. */
  static void summarize(io.loraflow.engine.train.TrainOutcome r, Map<String, Double> summary) {
    summary.put("stopped_early", r.stoppedEarly() ? 1.0 : 0.0);
    summary.put("evaluations_during_training", (double) r.evals().size());
    if (r.bestEvalLoss() != null) {
      summary.put("best_step", (double) r.bestStep());
      summary.put("best_eval_loss", r.bestEvalLoss());
    }
  }
}
