package io.loraflow.engine.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraflow.engine.io.GgufFile;
import io.loraflow.engine.io.ModelFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF file's vocabulary as a Hugging Face {@code tokenizer.json} (loadable by DJL's
 * HuggingFaceTokenizer) plus a {@code tokenizer_config.json} carrying the chat template and the
 * bos/eos/pad tokens.
 *
 * <p>Supported: {@code tokenizer.ggml.model == "gpt2"} (byte-level BPE) with the pre-tokenizer
 * llama.cpp uses for {@code tokenizer.ggml.pre} (smollm/starcoder/refact, gpt-2, llama3/llama-bpe,
 * qwen2), and {@code "llama"} sentencepiece BPE (see {@link SentencePieceBpe}). Token types:
 * CONTROL (3) become special added tokens, USER_DEFINED (4) plain added tokens.
 */
public final class GgufTokenizerConverter {

  private static final int CONTROL = 3;
  private static final int USER_DEFINED = 4;

  /** llama.cpp's LLAMA_VOCAB_PRE_TYPE_LLAMA3 split. */
  private static final String LLAMA3_SPLIT =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
          + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

  /** llama.cpp's LLAMA_VOCAB_PRE_TYPE_QWEN2 split. */
  private static final String QWEN2_SPLIT =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
          + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

  private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Writes tokenizer.json and tokenizer_config.json into {@code dir}; returns tokenizer.json. */
  public Path convert(GgufFile gguf, Path dir) {
    String model = gguf.string("tokenizer.ggml.model");
    ObjectNode root;
    if ("gpt2".equals(model)) {
      root = byteLevelBpe(gguf);
    } else if ("llama".equals(model)) {
      root = new SentencePieceBpe(json).tokenizerJson(gguf);
    } else {
      throw ModelFormatException.inFile(
          gguf.file(),
          "tokenizer.ggml.model '"
              + model
              + "' is not supported (supported: gpt2 byte-level BPE, llama sentencepiece BPE);"
              + " use the model's HF directory with its tokenizer.json");
    }
    List<Object> tokens = require(gguf, "tokenizer.ggml.tokens");
    ObjectNode config = json.createObjectNode();
    config.put("tokenizer_class", "PreTrainedTokenizerFast");
    config.put("add_bos_token", gguf.bool("tokenizer.ggml.add_bos_token", "llama".equals(model)));
    config.put("add_eos_token", gguf.bool("tokenizer.ggml.add_eos_token", false));
    config.put("clean_up_tokenization_spaces", false);
    config.put("model_max_length", gguf.integer(arch(gguf) + ".context_length", 2048));
    putToken(config, "bos_token", gguf, "bos_token_id", tokens);
    putToken(config, "eos_token", gguf, "eos_token_id", tokens);
    putToken(config, "unk_token", gguf, "unknown_token_id", tokens);
    putToken(config, "pad_token", gguf, "padding_token_id", tokens);
    String template = gguf.string("tokenizer.chat_template");
    if (template != null) {
      config.put("chat_template", template);
    }
    try {
      Files.createDirectories(dir);
      Path tokenizerJson = dir.resolve("tokenizer.json");
      json.writeValue(tokenizerJson.toFile(), root);
      json.writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
      return tokenizerJson;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the converted tokenizer to " + dir, e);
    }
  }

  private ObjectNode byteLevelBpe(GgufFile gguf) {
    List<Object> tokens = require(gguf, "tokenizer.ggml.tokens");
    List<Object> merges = require(gguf, "tokenizer.ggml.merges");
    List<Object> types = gguf.array("tokenizer.ggml.token_type");

    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    Map<String, Integer> vocabIds = new HashMap<>();
    ObjectNode vocab = json.createObjectNode();
    for (int id = 0; id < tokens.size(); id++) {
      String token = ByteLevel.spell((String) tokens.get(id));
      int type = types == null ? 1 : (int) (long) (Long) types.get(id);
      if ((type == CONTROL && ByteLevel.isSpelled((String) tokens.get(id)))
          || type == USER_DEFINED) {
        ObjectNode a = added.addObject();
        a.put("id", id);
        a.put("content", (String) tokens.get(id));
        a.put("single_word", false);
        a.put("lstrip", false);
        a.put("rstrip", false);
        a.put("normalized", false);
        a.put("special", type == CONTROL);
      }
      if (!vocabIds.containsKey(token)) {
        vocabIds.put(token, id);
        vocab.put(token, id);
      }
    }
    root.putNull("normalizer");
    root.set("pre_tokenizer", preTokenizer(gguf));
    root.set("post_processor", postProcessor(gguf, tokens));
    ObjectNode decoder = root.putObject("decoder");
    decoder.put("type", "ByteLevel");
    decoder.put("add_prefix_space", true);
    decoder.put("trim_offsets", true);
    decoder.put("use_regex", true);
    ObjectNode bpe = root.putObject("model");
    bpe.put("type", "BPE");
    bpe.putNull("dropout");
    bpe.putNull("unk_token");
    bpe.putNull("continuing_subword_prefix");
    bpe.putNull("end_of_word_suffix");
    bpe.put("fuse_unk", false);
    bpe.put("byte_fallback", false);
    bpe.put("ignore_merges", false);
    bpe.set("vocab", vocab);
    ArrayNode mergeArray = bpe.putArray("merges");
    for (Object m : merges) {
      mergeArray.add((String) m);
    }

    return root;
  }

  private static String arch(GgufFile gguf) {
    String arch = gguf.string("general.architecture");
    return arch == null ? "llama" : arch;
  }

  static List<Object> require(GgufFile gguf, String key) {
    List<Object> list = gguf.array(key);
    if (list == null) {
      throw ModelFormatException.inFile(gguf.file(), "metadata key " + key + " is missing");
    }
    return list;
  }

  private static void putToken(
      ObjectNode config, String field, GgufFile gguf, String key, List<Object> tokens) {
    long id = gguf.integer("tokenizer.ggml." + key, -1);
    if (id >= 0 && id < tokens.size()) {
      config.put(field, (String) tokens.get((int) id));
    }
  }

  /** The pre-tokenizer llama.cpp applies for {@code tokenizer.ggml.pre}. */
  private ObjectNode preTokenizer(GgufFile gguf) {
    String pre = gguf.string("tokenizer.ggml.pre");
    String key = pre == null ? "default" : pre;
    ObjectNode seq = json.createObjectNode();
    seq.put("type", "Sequence");
    ArrayNode list = seq.putArray("pretokenizers");
    switch (key) {
      case "smollm", "starcoder", "refact" -> {
        // "\p{N}" first (each digit alone), then GPT-2's regex
        list.addObject().put("type", "Digits").put("individual_digits", true);
        list.add(byteLevel(true));
      }
      case "default", "gpt-2" -> list.add(byteLevel(true));
      case "llama3", "llama-v3", "llama-bpe", "falcon3", "smaug-bpe", "dbrx" -> {
        list.add(split(LLAMA3_SPLIT));
        list.add(byteLevel(false));
      }
      case "qwen2", "deepseek-r1-qwen" -> {
        list.add(split(QWEN2_SPLIT));
        list.add(byteLevel(false));
      }
      default ->
          throw ModelFormatException.inFile(
              gguf.file(),
              "tokenizer.ggml.pre '"
                  + pre
                  + "' is not supported (supported: smollm, starcoder, refact, gpt-2, default,"
                  + " llama3, llama-v3, llama-bpe, falcon3, smaug-bpe, dbrx, qwen2,"
                  + " deepseek-r1-qwen)");
    }
    return seq;
  }

  private ObjectNode byteLevel(boolean useRegex) {
    ObjectNode b = json.createObjectNode();
    b.put("type", "ByteLevel");
    b.put("add_prefix_space", false);
    b.put("trim_offsets", true);
    b.put("use_regex", useRegex);
    return b;
  }

  private ObjectNode split(String regex) {
    ObjectNode s = json.createObjectNode();
    s.put("type", "Split");
    s.putObject("pattern").put("Regex", regex);
    s.put("behavior", "Isolated");
    s.put("invert", false);
    return s;
  }

  /** BOS/EOS around each sequence when the GGUF asks for them; else byte-level passthrough. */
  ObjectNode postProcessor(GgufFile gguf, List<Object> tokens) {
    boolean addBos =
        gguf.bool(
            "tokenizer.ggml.add_bos_token", "llama".equals(gguf.string("tokenizer.ggml.model")));
    boolean addEos = gguf.bool("tokenizer.ggml.add_eos_token", false);
    long bos = gguf.integer("tokenizer.ggml.bos_token_id", -1);
    long eos = gguf.integer("tokenizer.ggml.eos_token_id", -1);
    if (!(addBos && bos >= 0) && !(addEos && eos >= 0)) {
      ObjectNode p = json.createObjectNode();
      p.put("type", "ByteLevel");
      p.put("add_prefix_space", true);
      p.put("trim_offsets", false);
      p.put("use_regex", true);
      return p;
    }
    ObjectNode p = json.createObjectNode();
    p.put("type", "TemplateProcessing");
    ArrayNode single = p.putArray("single");
    ArrayNode pair = p.putArray("pair");
    ObjectNode specials = p.putObject("special_tokens");
    String bosText = addBos && bos >= 0 ? (String) tokens.get((int) bos) : null;
    String eosText = addEos && eos >= 0 ? (String) tokens.get((int) eos) : null;
    for (String seq : new String[] {"A", "B"}) {
      for (ArrayNode t : seq.equals("A") ? List.of(single, pair) : List.of(pair)) {
        if (bosText != null) {
          t.addObject().putObject("SpecialToken").put("id", bosText).put("type_id", 0);
        }
        t.addObject().putObject("Sequence").put("id", seq).put("type_id", 0);
        if (eosText != null) {
          t.addObject().putObject("SpecialToken").put("id", eosText).put("type_id", 0);
        }
      }
    }
    for (String text : new String[] {bosText, eosText}) {
      if (text != null) {
        long id = text.equals(bosText) ? bos : eos;
        ObjectNode s = specials.putObject(text);
        s.put("id", text);
        s.putArray("ids").add(id);
        s.putArray("tokens").add(text);
      }
    }
    return p;
  }
}
