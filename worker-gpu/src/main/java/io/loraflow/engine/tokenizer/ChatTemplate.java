package io.loraflow.engine.tokenizer;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The chat template families we meet, rendered in Java exactly as their Jinja templates render (no
 * Jinja engine in the product). The family is detected from the template text; a template we do not
 * recognize is an error that suggests {@code --template}.
 */
public final class ChatTemplate {

  /** Template families. */
  public enum Family {
    /** {@code <|im_start|>role\ncontent<|im_end|>\n} (SmolLM2, Qwen2), optional default system. */
    CHATML,
    /**
     * {@code <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>} after bos (Llama 3).
     */
    LLAMA3,
    /** {@code bos [INST] user [/INST]assistant eos} (Mistral / Llama 2 style). */
    MISTRAL,
    /** {@code User: ...\nFalcon: ...} (Falcon-instruct). */
    FALCON
  }

  private static final Pattern CHATML_DEFAULT_SYSTEM =
      // the newline inside the Jinja string literal is either escaped (\\n) or a real newline
      Pattern.compile("<\\|im_start\\|>system(?:\\\\n|\n)(.*?)<\\|im_end\\|>", Pattern.DOTALL);

  private final Family family;
  private final String defaultSystem;
  private final String bosToken;
  private final String eosToken;

  private ChatTemplate(Family family, String defaultSystem, String bosToken, String eosToken) {
    this.family = family;
    this.defaultSystem = defaultSystem;
    this.bosToken = bosToken == null ? "" : bosToken;
    this.eosToken = eosToken == null ? "" : eosToken;
  }

  /**
   * Recognizes a Jinja chat template.
   *
   * @param template the template text (tokenizer_config.json chat_template or GGUF
   *     tokenizer.chat_template)
   * @param bosToken bos token text (Llama 3 and Mistral templates start with it)
   * @param eosToken eos token text (Mistral ends assistant turns with it)
   */
  public static ChatTemplate detect(String template, String bosToken, String eosToken) {
    if (template.contains("<|im_start|>")) {
      // SmolLM2/Qwen2: a system turn is injected when the conversation does not start with one
      String defaultSystem = null;
      if (template.contains("messages[0]['role'] != 'system'")) {
        Matcher m = CHATML_DEFAULT_SYSTEM.matcher(template);
        if (m.find()) {
          defaultSystem = m.group(1).replace("\\n", "\n").replace("\\'", "'");
        }
      }
      return new ChatTemplate(Family.CHATML, defaultSystem, bosToken, eosToken);
    }
    if (template.contains("<|start_header_id|>")) {
      if (template.contains("Cutting Knowledge Date")) {
        throw unknown(template, "the Llama 3.1+ template (tools, dates) is not rendered yet");
      }
      return new ChatTemplate(Family.LLAMA3, null, bosToken, eosToken);
    }
    if (template.contains("[INST]")) {
      return new ChatTemplate(Family.MISTRAL, null, bosToken, eosToken);
    }
    if (template.contains("Falcon:")) {
      return new ChatTemplate(Family.FALCON, null, bosToken, eosToken);
    }
    throw unknown(template, "it matches none of ChatML, Llama 3, Mistral [INST], Falcon");
  }

  private static IllegalArgumentException unknown(String template, String why) {
    String head = template.length() > 120 ? template.substring(0, 120) + "..." : template;
    return new IllegalArgumentException(
        "unrecognized chat template ("
            + why
            + "): "
            + head
            + " -- use --template '<human>: {q}\\n<assistant>: {a}' (or another explicit"
            + " template) instead of the model's chat template");
  }

  public Family family() {
    return family;
  }

  /** The system prompt the template inserts when the conversation has none, or null. */
  public String defaultSystem() {
    return defaultSystem;
  }

  /** Renders the conversation as the template's Jinja would. */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    StringBuilder out = new StringBuilder();
    switch (family) {
      case CHATML -> {
        for (int i = 0; i < messages.size(); i++) {
          ChatMessage m = messages.get(i);
          if (i == 0 && defaultSystem != null && !m.role().equals("system")) {
            out.append("<|im_start|>system\n").append(defaultSystem).append("<|im_end|>\n");
          }
          out.append("<|im_start|>").append(m.role()).append('\n');
          out.append(m.content()).append("<|im_end|>\n");
        }
        if (addGenerationPrompt) {
          out.append("<|im_start|>assistant\n");
        }
      }
      case LLAMA3 -> {
        for (int i = 0; i < messages.size(); i++) {
          ChatMessage m = messages.get(i);
          if (i == 0) {
            out.append(bosToken);
          }
          out.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n");
          out.append(m.content().strip()).append("<|eot_id|>");
        }
        if (addGenerationPrompt) {
          out.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        }
      }
      case MISTRAL -> {
        out.append(bosToken);
        for (int i = 0; i < messages.size(); i++) {
          ChatMessage m = messages.get(i);
          boolean user = m.role().equals("user");
          if (user != (i % 2 == 0)) {
            throw new IllegalArgumentException(
                "Conversation roles must alternate user/assistant/user/assistant/...");
          }
          if (user) {
            out.append("[INST] ").append(m.content()).append(" [/INST]");
          } else if (m.role().equals("assistant")) {
            out.append(m.content()).append(eosToken);
          } else {
            throw new IllegalArgumentException("Only user and assistant roles are supported!");
          }
        }
      }
      case FALCON -> {
        for (int i = 0; i < messages.size(); i++) {
          ChatMessage m = messages.get(i);
          if (i > 0) {
            out.append('\n');
          }
          switch (m.role()) {
            case "system" -> out.append("System: ");
            case "user" -> out.append("User: ");
            case "assistant" -> out.append("Falcon: ");
            default -> {}
          }
          out.append(m.content());
        }
        if (addGenerationPrompt) {
          out.append("\nFalcon:");
        }
      }
      default -> throw new IllegalStateException("unhandled family " + family);
    }
    return out.toString();
  }
}
