package io.loraflow.activities.cpu;

import io.loraflow.activities.cpu.AdapterRegistry.ModelVersion;
import io.loraflow.workflows.EvalResult;
import java.util.Locale;
import java.util.Optional;

/**
 * The one rule for the "champion" alias of a registered model (the pipeline's registerAdapter is
 * its only caller, through {@link AdapterRegistrar}). A new version takes "champion" when
 *
 * <ol>
 *   <li>it beats its own base model on its held-out set (adapter eval loss below the base's), and
 *   <li>there is no champion yet, or the champion was scored on the <em>same</em> held-out set (tag
 *       {@value #EVAL_SET_TAG}: sha256 of the tokenized eval split) and this version's eval loss is
 *       lower than the champion's (tag {@value #EVAL_LOSS_TAG}).
 * </ol>
 *
 * Eval losses on different held-out sets are not comparable, so a champion scored on another set
 * (another dataset version, split, template or tokenizer) or without the tags (registered by hand)
 * is kept, and the decision says so. Registered models are per base model and dataset lineage
 * ({@code RunSpec.registeredModelName}), so a second domain never competes with the first.
 */
public final class PromotionPolicy {

  /** Version tag: the adapter's mean held-out token loss. */
  public static final String EVAL_LOSS_TAG = "loraflow.eval_loss";

  /** Version tag: sha256 of the tokenized held-out split the losses were measured on. */
  public static final String EVAL_SET_TAG = "loraflow.eval_set_sha256";

  /**
   * The decision and why, for the run's result, the API, logs and the version's tag.
   *
   * @param promote true when the version takes "champion"
   * @param reason one sentence naming both losses and the held-out set(s)
   */
  public record Decision(boolean promote, String reason) {}

  private PromotionPolicy() {}

  /**
   * @param eval the candidate's evaluation (null: not evaluated)
   * @param evalSetSha256 the candidate's held-out set ("" when unknown)
   * @param champion the version holding "champion" now, if any
   */
  public static Decision decide(
      EvalResult eval, String evalSetSha256, Optional<ModelVersion> champion) {
    if (eval == null) {
      return new Decision(false, "not promoted: the version has no evaluation");
    }
    String set = shortSet(evalSetSha256);
    double loss = eval.adapterEvalLoss();
    if (!(loss < eval.baseEvalLoss())) {
      return new Decision(
          false,
          "not promoted: adapter eval loss "
              + num(loss)
              + " does not beat the base model's "
              + num(eval.baseEvalLoss())
              + " on held-out set "
              + set);
    }
    if (champion.isEmpty()) {
      return new Decision(
          true,
          "promoted: first champion (eval loss "
              + num(loss)
              + " beats the base model's "
              + num(eval.baseEvalLoss())
              + " on held-out set "
              + set
              + ")");
    }
    ModelVersion c = champion.get();
    double championLoss;
    try {
      championLoss = Double.parseDouble(c.tags().get(EVAL_LOSS_TAG));
    } catch (NullPointerException | NumberFormatException e) {
      return new Decision(
          false,
          "not promoted: champion version "
              + c.version()
              + " has no "
              + EVAL_LOSS_TAG
              + " tag (set by hand?), so it cannot be compared; move the alias by hand to replace"
              + " it");
    }
    String theirs = c.tags().getOrDefault(EVAL_SET_TAG, "");
    if (evalSetSha256 == null || evalSetSha256.isEmpty() || !evalSetSha256.equals(theirs)) {
      return new Decision(
          false,
          "not promoted: champion version "
              + c.version()
              + " was scored on held-out set "
              + shortSet(theirs)
              + ", this version on "
              + set
              + "; eval losses ("
              + num(championLoss)
              + " vs "
              + num(loss)
              + ") on different held-out sets are not comparable, so the champion stays (move"
              + " the alias by hand, or register under another registry.modelName)");
    }
    return loss < championLoss
        ? new Decision(
            true,
            "promoted: eval loss "
                + num(loss)
                + " beats champion version "
                + c.version()
                + "'s "
                + num(championLoss)
                + " on the same held-out set "
                + set)
        : new Decision(
            false,
            "not promoted: eval loss "
                + num(loss)
                + " does not beat champion version "
                + c.version()
                + "'s "
                + num(championLoss)
                + " on the same held-out set "
                + set);
  }

  private static String shortSet(String sha) {
    return sha == null || sha.isEmpty()
        ? "(unknown)"
        : sha.substring(0, Math.min(12, sha.length()));
  }

  private static String num(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }
}
