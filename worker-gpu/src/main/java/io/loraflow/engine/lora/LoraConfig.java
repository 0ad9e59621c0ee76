package io.loraflow.engine.lora;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Which linear modules get a LoRA branch and how big it is (PEFT's LoraConfig).
 *
 * @param r rank of A (r, in) and B (out, r); > 0
 * @param alpha LoRA alpha; the branch is scaled by alpha / r (or alpha / sqrt(r) with rsLoRA)
 * @param dropout dropout on the branch input, in [0, 1)
 * @param targetModules module names as PEFT matches them: "q_proj" matches any module whose path is
 *     "q_proj" or ends in ".q_proj"; "re:<regex>" full-matches the whole path; the single entry
 *     "all-linear" targets every linear except the LM head. Falcon's fused attention projection is
 *     "query_key_value".
 * @param useRslora scale by alpha / sqrt(r) instead of alpha / r (PEFT use_rslora)
 */
public record LoraConfig(
    int r, double alpha, double dropout, List<String> targetModules, boolean useRslora) {

  public static final String ALL_LINEAR = "all-linear";
  private static final String REGEX_PREFIX = "re:";

  public LoraConfig {
    if (r <= 0) {
      throw new IllegalArgumentException(
          "LoRA rank r must be > 0, got " + r + " (typical: 8, 16 or 64; set --r)");
    }
    if (!(alpha > 0) || Double.isInfinite(alpha)) {
      throw new IllegalArgumentException(
          "LoRA alpha must be > 0, got " + alpha + " (typical: 2 * r; set --alpha)");
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException(
          "LoRA dropout must be in [0, 1), got " + dropout + " (typical: 0.05)");
    }
    Objects.requireNonNull(targetModules, "targetModules");
    targetModules = List.copyOf(targetModules);
    if (targetModules.isEmpty()) {
      throw new IllegalArgumentException(
          "LoRA target modules are empty: name at least one, e.g. q_proj,v_proj or all-linear");
    }
    for (String t : targetModules) {
      if (t.isBlank()) {
        throw new IllegalArgumentException("LoRA target module names must not be blank");
      }
      if (t.startsWith(REGEX_PREFIX)) {
        Pattern.compile(t.substring(REGEX_PREFIX.length())); // fails early on a bad pattern
      }
    }
    if (targetModules.contains(ALL_LINEAR) && targetModules.size() > 1) {
      throw new IllegalArgumentException(
          "'all-linear' must be the only LoRA target, got " + targetModules);
    }
  }

  /** The reference run: r 16, alpha 32, dropout 0.05 on {@code targets}. */
  public static LoraConfig of(int r, double alpha, double dropout, List<String> targets) {
    return new LoraConfig(r, alpha, dropout, targets, false);
  }

  /** Multiplier of the LoRA branch: alpha / r (rsLoRA: alpha / sqrt(r)). */
  public double scaling() {
    return useRslora ? alpha / Math.sqrt(r) : alpha / r;
  }

  /** True when the linear module at HF path {@code module} gets a LoRA branch. */
  public boolean targets(String module) {
    for (String t : targetModules) {
      if (matches(t, module)) {
        return true;
      }
    }
    return false;
  }

  /** True when target entry {@code target} selects module path {@code module}. */
  public static boolean matches(String target, String module) {
    if (target.equals(ALL_LINEAR)) {
      return !isOutputLayer(module);
    }
    if (target.startsWith(REGEX_PREFIX)) {
      return Pattern.matches(target.substring(REGEX_PREFIX.length()), module);
    }
    return module.equals(target) || module.endsWith("." + target);
  }

  /** The LM head is never a LoRA target under all-linear (PEFT excludes the output layer). */
  static boolean isOutputLayer(String module) {
    return module.equals("lm_head") || module.endsWith(".lm_head");
  }
}
