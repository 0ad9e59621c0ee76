package io.loraflow.engine.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraflow.engine.io.GgufFile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF "llama" (sentencepiece BPE) vocabulary as tokenizer.json, in the shape of Llama 2's own
 * tokenizer.json: normalizer prepends "▁" (when tokenizer.ggml.add_space_prefix, default true) and
 * turns spaces into "▁"; BPE with byte fallback over merges recovered from the vocabulary (every
 * split of a token into two tokens, ranked by the merged token's score, as transformers'
 * generate_merges does); decoder undoes it. Matches sentencepiece's own encoding, including leading
 * spaces (which a Metaspace "first" pre-tokenizer would collapse).
 */
final class SentencePieceBpe {

  private static final int UNKNOWN = 2;
  private static final int CONTROL = 3;
  private static final int USER_DEFINED = 4;

  private final ObjectMapper json;

  SentencePieceBpe(ObjectMapper json) {
    this.json = json;
  }

  ObjectNode tokenizerJson(GgufFile gguf) {
    List<Object> tokens = GgufTokenizerConverter.require(gguf, "tokenizer.ggml.tokens");
    List<Object> scores = GgufTokenizerConverter.require(gguf, "tokenizer.ggml.scores");
    List<Object> types = gguf.array("tokenizer.ggml.token_type");
    long unk = gguf.integer("tokenizer.ggml.unknown_token_id", 0);

    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    ObjectNode vocab = json.createObjectNode();
    Map<String, Integer> ids = new HashMap<>();
    for (int id = 0; id < tokens.size(); id++) {
      String token = (String) tokens.get(id);
      int type = types == null ? 1 : (int) (long) (Long) types.get(id);
      if (type == UNKNOWN || type == CONTROL || type == USER_DEFINED) {
        ObjectNode a = added.addObject();
        a.put("id", id);
        a.put("content", token);
        a.put("single_word", false);
        a.put("lstrip", false);
        a.put("rstrip", false);
        a.put("normalized", false);
        a.put("special", type != USER_DEFINED);
      }
      if (!ids.containsKey(token)) {
        ids.put(token, id);
        vocab.put(token, id);
      }
    }

    ObjectNode normalizer = root.putObject("normalizer");
    normalizer.put("type", "Sequence");
    ArrayNode norms = normalizer.putArray("normalizers");
    if (gguf.bool("tokenizer.ggml.add_space_prefix", true)) {
      norms.addObject().put("type", "Prepend").put("prepend", "\u2581");
    }
    ObjectNode replace = norms.addObject();
    replace.put("type", "Replace");
    replace.putObject("pattern").put("String", " ");
    replace.put("content", "\u2581");
    root.putNull("pre_tokenizer");
    root.set("post_processor", new GgufTokenizerConverter().postProcessor(gguf, tokens));

    ObjectNode decoder = root.putObject("decoder");
    decoder.put("type", "Sequence");
    ArrayNode decoders = decoder.putArray("decoders");
    ObjectNode back = decoders.addObject();
    back.put("type", "Replace");
    back.putObject("pattern").put("String", "\u2581");
    back.put("content", " ");
    decoders.addObject().put("type", "ByteFallback");
    decoders.addObject().put("type", "Fuse");
    if (gguf.bool("tokenizer.ggml.add_space_prefix", true)) {
      decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
    }

    ObjectNode bpe = root.putObject("model");
    bpe.put("type", "BPE");
    bpe.putNull("dropout");
    if (unk >= 0 && unk < tokens.size()) {
      bpe.put("unk_token", (String) tokens.get((int) unk));
    } else {
      bpe.putNull("unk_token");
    }
    bpe.putNull("continuing_subword_prefix");
    bpe.putNull("end_of_word_suffix");
    bpe.put("fuse_unk", true);
    bpe.put("byte_fallback", true);
    bpe.put("ignore_merges", false);
    bpe.set("vocab", vocab);
    ArrayNode merges = bpe.putArray("merges");
    for (String[] m : merges(tokens, scores, ids)) {
      merges.add(m[0] + " " + m[1]);
    }
    return root;
  }

  /**
   * transformers' generate_merges(vocab, vocab_scores): for each token (file order) every split
   * into two vocabulary tokens, locally ordered by the parts' ids; then all ranked by the merged
   * token's score, descending, ties by the parts' lengths descending (stable sort).
   */
  static List<String[]> merges(List<Object> tokens, List<Object> scores, Map<String, Integer> ids) {
    record Merge(String left, String right, double score) {}
    List<Merge> all = new ArrayList<>();
    for (int t = 0; t < tokens.size(); t++) {
      String merged = (String) tokens.get(t);
      double score = ((Number) scores.get(t)).doubleValue();
      List<Merge> local = new ArrayList<>();
      for (int cut = merged.offsetByCodePoints(0, 1);
          cut < merged.length();
          cut = merged.offsetByCodePoints(cut, 1)) {
        String l = merged.substring(0, cut);
        String r = merged.substring(cut);
        // "l r" is how tokenizer.json spells a merge, so a part with a space cannot be written
        if (ids.containsKey(l) && ids.containsKey(r) && !l.contains(" ") && !r.contains(" ")) {
          local.add(new Merge(l, r, score));
        }
      }
      local.sort(
          Comparator.comparingInt((Merge m) -> ids.get(m.left()))
              .thenComparingInt(m -> ids.get(m.right())));
      all.addAll(local);
    }
    all.sort(
        Comparator.comparingDouble(Merge::score)
            .thenComparingInt(m -> m.left().codePointCount(0, m.left().length()))
            .thenComparingInt(m -> m.right().codePointCount(0, m.right().length()))
            .reversed());
    List<String[]> out = new ArrayList<>(all.size());
    for (Merge m : all) {
      out.add(new String[] {m.left(), m.right()});
    }
    return out;
  }
}
