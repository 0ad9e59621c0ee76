package io.loraflow.activities.cpu;

import io.loraflow.activities.cpu.AdapterRegistry.ModelVersion;
import io.loraflow.workflows.EvalResult;
import java.util.Optional;

/**
 * When a new adapter version takes the "champion" alias. It must beat its own base model (adapter
 * eval loss below the base eval loss), and then either no champion exists yet or its adapter eval
 * loss is below the champion's tag {@value #EVAL_LOSS_TAG}. A champion without that tag (registered
 * by hand) is never replaced automatically. Eval losses are comparable across versions of one
 * registered model because they share the base model; different datasets make the comparison
 * approximate, which is why promotion can be turned off per run.
 */
public final class PromotionPolicy {

  public static final String EVAL_LOSS_TAG = "loraflow.eval_loss";

  /** The decision and why, for logs and tags. */
  public record Decision(boolean promote, String reason) {}

  private PromotionPolicy() {}

  public static Decision decide(EvalResult eval, Optional<ModelVersion> champion) {
    if (eval == null) {
      return new Decision(false, "no evaluation");
    }
    double loss = eval.adapterEvalLoss();
    if (!(loss < eval.baseEvalLoss())) {
      return new Decision(
          false,
          "adapter eval loss " + loss + " does not beat the base model's " + eval.baseEvalLoss());
    }
    if (champion.isEmpty()) {
      return new Decision(true, "first champion");
    }
    String tag = champion.get().tags().get(EVAL_LOSS_TAG);
    double championLoss;
    try {
      championLoss = Double.parseDouble(tag);
    } catch (NullPointerException | NumberFormatException e) {
      return new Decision(
          false,
          "champion version " + champion.get().version() + " has no " + EVAL_LOSS_TAG + " tag");
    }
    return loss < championLoss
        ? new Decision(true, "eval loss " + loss + " beats champion's " + championLoss)
        : new Decision(false, "eval loss " + loss + " does not beat champion's " + championLoss);
  }
}
