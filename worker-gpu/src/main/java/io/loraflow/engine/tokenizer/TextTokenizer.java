package io.loraflow.engine.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's tokenizer: DJL's HuggingFaceTokenizer over {@code tokenizer.json}, plus what {@code
 * tokenizer_config.json} beside it says (chat template, bos/eos tokens). Special tokens written in
 * the text (e.g. {@code <|im_start|>}) always encode to their single id; {@code addSpecial} only
 * controls the post-processor (a BOS for Llama-style tokenizers, nothing for SmolLM2).
 */
public final class TextTokenizer implements AutoCloseable {

  private final Path tokenizerJson;
  private final HuggingFaceTokenizer hf;
  private final Map<String, Integer> addedTokens;
  private final String chatTemplateText;
  private final String bosToken;
  private final String eosToken;
  private final List<Integer> eosTokenIds;

  private TextTokenizer(
      Path tokenizerJson,
      HuggingFaceTokenizer hf,
      Map<String, Integer> addedTokens,
      String chatTemplateText,
      String bosToken,
      String eosToken,
      List<Integer> eosTokenIds) {
    this.tokenizerJson = tokenizerJson;
    this.hf = hf;
    this.addedTokens = addedTokens;
    this.chatTemplateText = chatTemplateText;
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    this.eosTokenIds = eosTokenIds;
  }

  /**
   * Opens {@code tokenizer.json}; chat template and bos/eos come from {@code tokenizer_config.json}
   * in the same directory when it exists. EOS ids: the eos token's id.
   */
  public static TextTokenizer open(Path tokenizerJson) {
    return open(tokenizerJson, List.of());
  }

  /**
   * As {@link #open(Path)}, with the model's eos ids (config.json / generation_config.json or GGUF
   * metadata) placed first.
   */
  public static TextTokenizer open(Path tokenizerJson, List<Integer> modelEosIds) {
    ObjectMapper json = new ObjectMapper();
    Map<String, Integer> added = new HashMap<>();
    try {
      JsonNode tok = json.readTree(tokenizerJson.toFile());
      for (JsonNode t : tok.path("added_tokens")) {
        added.put(t.path("content").asText(), t.path("id").asInt());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read tokenizer " + tokenizerJson, e);
    }
    String template = null;
    String bos = null;
    String eos = null;
    Path configFile = tokenizerJson.resolveSibling("tokenizer_config.json");
    if (Files.isRegularFile(configFile)) {
      try {
        JsonNode cfg = json.readTree(configFile.toFile());
        template = templateText(cfg.get("chat_template"));
        bos = tokenText(cfg.get("bos_token"));
        eos = tokenText(cfg.get("eos_token"));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + configFile, e);
      }
    }
    Path jinja = tokenizerJson.resolveSibling("chat_template.jinja");
    if (template == null && Files.isRegularFile(jinja)) {
      try {
        template = Files.readString(jinja);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + jinja, e);
      }
    }
    List<Integer> eosIds = new ArrayList<>(modelEosIds);
    if (eos != null && added.containsKey(eos) && !eosIds.contains(added.get(eos))) {
      eosIds.add(added.get(eos));
    }
    HuggingFaceTokenizer hf;
    try {
      hf =
          HuggingFaceTokenizer.newInstance(
              tokenizerJson,
              Map.of(
                  "addSpecialTokens", "false",
                  "truncation", "false",
                  "padding", "false",
                  "modelMaxLength", String.valueOf(Integer.MAX_VALUE)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load tokenizer " + tokenizerJson, e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          tokenizerJson + ": DJL's HuggingFaceTokenizer rejects it: " + e.getMessage(), e);
    }
    return new TextTokenizer(
        tokenizerJson,
        hf,
        Collections.unmodifiableMap(added),
        template,
        bos,
        eos,
        List.copyOf(eosIds));
  }

  private static String templateText(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return node.asText();
    }
    // list form: [{"name": "default", "template": "..."}, ...]
    for (JsonNode t : node) {
      if ("default".equals(t.path("name").asText())) {
        return t.path("template").asText();
      }
    }
    return null;
  }

  private static String tokenText(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    return node.isTextual() ? node.asText() : node.path("content").asText(null);
  }

  /** Token ids of {@code text}; {@code addSpecial} applies the post-processor (e.g. BOS). */
  public long[] encode(String text, boolean addSpecial) {
    return hf.encode(text, addSpecial, false).getIds();
  }

  /** Text of {@code ids}, special tokens included (as HF's decode does by default). */
  public String decode(long[] ids) {
    return hf.decode(ids, false);
  }

  public String decode(long[] ids, boolean skipSpecialTokens) {
    return hf.decode(ids, skipSpecialTokens);
  }

  /** Ids that end generation: the model's first, then the tokenizer's eos token. */
  public List<Integer> eosTokenIds() {
    return eosTokenIds;
  }

  /** The id of an added/special token such as "<|im_end|>", if the tokenizer has it. */
  public Optional<Integer> specialTokenId(String token) {
    return Optional.ofNullable(addedTokens.get(token));
  }

  public Optional<String> chatTemplateText() {
    return Optional.ofNullable(chatTemplateText);
  }

  /**
   * Renders a conversation with the model's chat template (ChatML, Llama 3, Mistral, Falcon
   * families). Throws if the model has no template or one we do not recognize.
   */
  public String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt) {
    if (chatTemplateText == null) {
      throw new IllegalStateException(
          tokenizerJson.getParent()
              + " has no chat template (tokenizer_config.json chat_template); use --template");
    }
    return ChatTemplate.detect(chatTemplateText, bosToken, eosToken)
        .render(messages, addGenerationPrompt);
  }

  public Path tokenizerJson() {
    return tokenizerJson;
  }

  /** The underlying DJL tokenizer (owned by this object). */
  public HuggingFaceTokenizer huggingFace() {
    return hf;
  }

  @Override
  public void close() {
    hf.close();
  }
}
