package io.loraflow.activities.prompts;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a question/answer pair becomes text: {@code prefix + question + infix} is the prompt (what
 * generation is given; its tokens get label -100), the answer follows, and EOS ends the example.
 *
 * <p>Trailing spaces of the infix move to the start of the answer ({@code "<assistant>:"} + {@code
 * " answer"}), so that a BPE tokenizer sees the answer's first word with its leading space, as it
 * would when tokenizing the whole text in one piece; the generation prompt then ends at the colon.
 *
 * @param name "default", "chatml" or "custom"
 * @param prefix text before the question
 * @param infix text between the question and the answer, without trailing spaces
 * @param answerLead the spaces moved from the infix to the start of every answer
 */
public record PromptTemplate(String name, String prefix, String infix, String answerLead) {

  /** The project default {@code <human>: {q}\n<assistant>: {a}}. */
  public static final PromptTemplate DEFAULT = parse("default", "<human>: {q}\n<assistant>: {a}");

  private static final Pattern CHATML_SYSTEM =
      Pattern.compile("<\\|im_start\\|>system(?:\n|\\\\n)(.*?)<\\|im_end\\|>", Pattern.DOTALL);

  /**
   * Resolves a run spec's template.
   *
   * @param spec "default", "chat" or a custom template with one {q} and ending in {a}
   * @param chatTemplate the model's chat template (Jinja source), or null
   */
  public static PromptTemplate resolve(String spec, String chatTemplate) {
    if (spec == null || spec.equals("default")) {
      return DEFAULT;
    }
    if (spec.equals("chat")) {
      return fromChatTemplate(chatTemplate);
    }
    return parse("custom", spec);
  }

  /** A template with one {q} and ending in {a}. */
  public static PromptTemplate parse(String name, String template) {
    int q = template.indexOf("{q}");
    if (q < 0
        || template.indexOf("{q}", q + 1) >= 0
        || !template.endsWith("{a}")
        || template.indexOf("{a}") != template.length() - 3
        || template.indexOf("{a}") < q) {
      throw new IllegalArgumentException(
          "template must contain one {q} and end with one {a}, got '" + template + "'");
    }
    String prefix = template.substring(0, q);
    String infix = template.substring(q + 3, template.length() - 3);
    String stripped = infix.replaceAll(" +$", "");
    return new PromptTemplate(name, prefix, stripped, infix.substring(stripped.length()));
  }

  /**
   * The ChatML family ({@code <|im_start|>role\n...<|im_end|>}: SmolLM2, Qwen2, ...): one user turn
   * and the generation prompt, with the template's default system message when it has one. EOS of
   * such models is {@code <|im_end|>}.
   */
  public static PromptTemplate fromChatTemplate(String chatTemplate) {
    if (chatTemplate == null || chatTemplate.isBlank()) {
      throw new IllegalArgumentException(
          "template \"chat\" needs the base model's chat template, but the model has none; use"
              + " template \"default\"");
    }
    if (!chatTemplate.contains("<|im_start|>")) {
      throw new IllegalArgumentException(
          "template \"chat\" supports ChatML chat templates (<|im_start|>...<|im_end|>); this"
              + " model's template is not one. Use template \"default\" or a custom"
              + " \"...{q}...{a}\" template");
    }
    String system = "";
    Matcher m = CHATML_SYSTEM.matcher(chatTemplate);
    if (m.find() && !m.group(1).contains("{{") && !m.group(1).contains("{%")) {
      system = "<|im_start|>system\n" + m.group(1).replace("\\n", "\n") + "<|im_end|>\n";
    }
    return new PromptTemplate(
        "chatml", system + "<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n", "");
  }

  /** The generation prompt for a question. */
  public String prompt(String question) {
    return prefix + question + infix;
  }

  /** The answer text as it follows the prompt. */
  public String answer(String answer) {
    return answerLead + answer;
  }
}
