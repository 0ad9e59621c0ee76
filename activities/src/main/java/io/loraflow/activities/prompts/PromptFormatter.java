package io.loraflow.activities.prompts;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraflow.activities.dataset.QaPair;
import io.loraflow.workflows.PromptStats;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Turns question/answer pairs into training examples: template → tokens (DJL's HuggingFace
 * tokenizer on a tokenizer.json) → answers-only labels → EOS → truncation → seeded train/eval
 * split.
 *
 * <p>The prompt ({@link PromptTemplate#prompt}) is encoded on its own with the tokenizer's special
 * tokens (BOS for Llama-style tokenizers), the answer without them, and the EOS id is appended: the
 * model sees exactly the prompt tokens that generation will give it, and learns to emit EOS after
 * the answer. Examples longer than {@code maxSeqLen} are cut at the end (EOS is then lost, the
 * example is counted as truncated); an example whose prompt alone fills {@code maxSeqLen} is
 * dropped and counted. Not thread-safe; close it to free the native tokenizer.
 */
public final class PromptFormatter implements AutoCloseable {

  /** Label of positions that do not count in the loss (PyTorch's cross-entropy ignore_index). */
  public static final long IGNORE_INDEX = -100;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HuggingFaceTokenizer tokenizer;
  private final PromptTemplate template;
  private final long eosTokenId;
  private final int maxSeqLen;
  private final TrainingTextGuard guard;

  private PromptFormatter(
      HuggingFaceTokenizer tokenizer,
      PromptTemplate template,
      long eosTokenId,
      int maxSeqLen,
      TrainingTextGuard guard) {
    this.tokenizer = tokenizer;
    this.template = template;
    this.eosTokenId = eosTokenId;
    this.maxSeqLen = maxSeqLen;
    this.guard = guard;
  }

  /**
   * @param tokenizerJson a Hugging Face tokenizer.json
   * @param template how pairs become text
   * @param eosTokenId the id appended after every answer (the model's EOS; {@code <|im_end|>} for
   *     ChatML models)
   * @param maxSeqLen tokens per example, at least 2
   */
  public static PromptFormatter open(
      Path tokenizerJson, PromptTemplate template, long eosTokenId, int maxSeqLen)
      throws IOException {
    return open(tokenizerJson, template, eosTokenId, maxSeqLen, TrainingTextGuard.Mode.ESCAPE);
  }

  /**
   * As above; {@code markers} says what {@link #format} does with role markers and special tokens
   * inside a question or answer ({@link TrainingTextGuard}).
   */
  public static PromptFormatter open(
      Path tokenizerJson,
      PromptTemplate template,
      long eosTokenId,
      int maxSeqLen,
      TrainingTextGuard.Mode markers)
      throws IOException {
    if (maxSeqLen < 2) {
      throw new IllegalArgumentException("maxSeqLen must be >= 2, got " + maxSeqLen);
    }
    if (eosTokenId < 0) {
      throw new IllegalArgumentException("eosTokenId must be >= 0, got " + eosTokenId);
    }
    HuggingFaceTokenizer tokenizer =
        HuggingFaceTokenizer.builder()
            .optTokenizerPath(tokenizerJson)
            .optTruncation(false)
            .optPadding(false)
            .optAddSpecialTokens(true)
            .build();
    return new PromptFormatter(
        tokenizer,
        template,
        eosTokenId,
        maxSeqLen,
        TrainingTextGuard.of(markers, template, tokenizerJson));
  }

  /** What happened to markers inside training text in the last {@link #format}. */
  public TrainingTextGuard guard() {
    return guard;
  }

  /** End tokens tried, in order, when the model metadata names no EOS. */
  public static final List<String> WELL_KNOWN_EOS =
      List.of("<|im_end|>", "<|eot_id|>", "</s>", "<|endoftext|>", "<eos>");

  /**
   * The id every answer ends with, the same for training and for stopping generation: {@code
   * <|im_end|>} for the ChatML template (the turn end its chat template emits, even when the
   * model's EOS is another token), else the model's first EOS id, else the first of {@link
   * #WELL_KNOWN_EOS} the tokenizer knows; -1 when none is found.
   */
  public static long answerEosId(
      Path tokenizerJson, PromptTemplate template, List<Integer> modelEosIds) throws IOException {
    try (PromptFormatter probe = open(tokenizerJson, template, 0, 2)) {
      if (template.name().equals("chatml")) {
        long imEnd = probe.specialTokenId("<|im_end|>");
        if (imEnd >= 0) {
          return imEnd;
        }
      }
      if (modelEosIds != null && !modelEosIds.isEmpty()) {
        return modelEosIds.get(0);
      }
      for (String t : WELL_KNOWN_EOS) {
        long id = probe.specialTokenId(t);
        if (id >= 0) {
          return id;
        }
      }
      return -1;
    }
  }

  /**
   * The id of a token string the tokenizer treats as one special token (e.g. "<|im_end|>"), or -1.
   * For finding EOS when the model metadata does not name it.
   */
  public long specialTokenId(String token) {
    long[] ids = tokenizer.encode(token, false, false).getIds();
    return ids.length == 1 ? ids[0] : -1;
  }

  public PromptTemplate template() {
    return template;
  }

  /** The text generation is given for a question. */
  public String promptText(String question) {
    return template.prompt(question);
  }

  /** Prompt token ids (with the tokenizer's special tokens, as in training). */
  public long[] encodePrompt(String question) {
    return encode(template.prompt(question), true);
  }

  /** One example: prompt tokens (label -100), answer tokens and EOS (labels = ids), truncated. */
  public TokenizedExample tokenize(String question, String answer) {
    long[] prompt = encodePrompt(question);
    long[] reply = encode(template.answer(answer), false);
    int full = prompt.length + reply.length + 1;
    int n = Math.min(full, maxSeqLen);
    long[] ids = new long[n];
    long[] labels = new long[n];
    for (int i = 0; i < n; i++) {
      long id;
      if (i < prompt.length) {
        id = prompt[i];
      } else if (i < prompt.length + reply.length) {
        id = reply[i - prompt.length];
      } else {
        id = eosTokenId;
      }
      ids[i] = id;
      labels[i] = i < prompt.length ? IGNORE_INDEX : id;
    }
    return new TokenizedExample(ids, labels, full, full > maxSeqLen);
  }

  private long[] encode(String text, boolean special) {
    Encoding e = tokenizer.encode(text, special, false);
    long[] ids = e.getIds();
    // a post-processor that appends EOS (T5-style) must not end the prompt
    if (special && ids.length > 0 && ids[ids.length - 1] == eosTokenId) {
      ids = Arrays.copyOf(ids, ids.length - 1);
    }
    return ids;
  }

  /**
   * Tokenizes every pair and splits them: a seeded shuffle (java.util.Random, so the split is the
   * same on every JVM) picks {@code round(n * evalFraction)} examples (at least 1 when evalFraction
   * &gt; 0) for eval; both splits keep dataset order.
   */
  public FormattedSplits format(List<QaPair> pairs, double evalFraction, long seed) {
    if (!(evalFraction >= 0 && evalFraction < 1)) {
      throw new IllegalArgumentException("evalFraction must be in [0, 1), got " + evalFraction);
    }
    int n = pairs.size();
    int evalCount = io.loraflow.workflows.EvalSplit.evalCount(n, evalFraction);
    var problem = io.loraflow.workflows.EvalSplit.problem(n, evalFraction);
    if (problem.isPresent()) {
      throw new IllegalArgumentException(problem.get());
    }
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(seed));
    boolean[] isEval = new boolean[n];
    for (int i = 0; i < evalCount; i++) {
      isEval[order.get(i)] = true;
    }

    List<TokenizedExample> train = new ArrayList<>();
    List<TokenizedExample> eval = new ArrayList<>();
    List<EvalPrompt> evalPrompts = new ArrayList<>();
    List<EvalPrompt> trainPrompts = new ArrayList<>();
    List<Integer> lengths = new ArrayList<>();
    int truncated = 0;
    int dropped = 0;
    long answerTokens = 0;
    for (int i = 0; i < n; i++) {
      QaPair raw = pairs.get(i);
      String where = raw.record() > 0 ? raw.where() : "record " + (i + 1);
      QaPair p =
          new QaPair(
              guard.clean(where, "question", raw.question()),
              guard.clean(where, "answer", raw.answer()),
              raw.record(),
              raw.line());
      TokenizedExample ex = tokenize(p.question(), p.answer());
      lengths.add(ex.fullLength());
      if (ex.answerTokens() == 0) {
        dropped++;
        continue;
      }
      if (ex.truncated()) {
        truncated++;
      }
      if (isEval[i]) {
        eval.add(ex);
        evalPrompts.add(new EvalPrompt(p.question(), p.answer(), promptText(p.question())));
      } else {
        train.add(ex);
        trainPrompts.add(new EvalPrompt(p.question(), p.answer(), promptText(p.question())));
        answerTokens += ex.answerTokens();
      }
    }
    if (train.isEmpty()) {
      throw new IllegalArgumentException(
          "no training example fits maxSeqLen "
              + maxSeqLen
              + " ("
              + dropped
              + " prompts fill it alone); raise training.maxSeqLen");
    }
    Collections.sort(lengths);
    double mean = lengths.stream().mapToInt(Integer::intValue).average().orElse(0);
    int p95 = lengths.isEmpty() ? 0 : lengths.get((int) Math.ceil(0.95 * lengths.size()) - 1);
    int max = lengths.isEmpty() ? 0 : lengths.get(lengths.size() - 1);
    PromptStats stats =
        new PromptStats(
            template.name(),
            train.size(),
            eval.size(),
            mean,
            p95,
            max,
            truncated,
            answerTokens,
            dropped);
    return new FormattedSplits(train, eval, evalPrompts, stats, trainPrompts);
  }

  /** Writes {"input_ids":[...],"labels":[...]} lines. */
  public static void writeTokenized(List<TokenizedExample> examples, OutputStream out)
      throws IOException {
    for (TokenizedExample ex : examples) {
      ObjectNode line = JSON.createObjectNode();
      var ids = line.putArray("input_ids");
      for (long id : ex.inputIds()) {
        ids.add(id);
      }
      var labels = line.putArray("labels");
      for (long l : ex.labels()) {
        labels.add(l);
      }
      out.write(JSON.writeValueAsBytes(line));
      out.write('\n');
    }
  }

  /** Writes {"question","reference","prompt"} lines. */
  public static void writeEvalPrompts(List<EvalPrompt> prompts, OutputStream out)
      throws IOException {
    for (EvalPrompt p : prompts) {
      out.write(JSON.writeValueAsString(p).getBytes(StandardCharsets.UTF_8));
      out.write('\n');
    }
  }

  /**
   * Reads what {@link #writeEvalPrompts} wrote (the evaluate activity's input); a line without the
   * three strings is an error naming the line.
   */
  public static List<EvalPrompt> readEvalPrompts(Path jsonl) throws IOException {
    List<EvalPrompt> out = new ArrayList<>();
    int lineNo = 0;
    for (String line : Files.readAllLines(jsonl, StandardCharsets.UTF_8)) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      JsonNode n = JSON.readTree(line);
      for (String field : List.of("question", "reference", "prompt")) {
        if (n == null || !n.path(field).isTextual()) {
          throw new IOException(
              jsonl + " line " + lineNo + ": an eval prompt needs the string \"" + field + "\"");
        }
      }
      out.add(
          new EvalPrompt(
              n.get("question").asText(), n.get("reference").asText(), n.get("prompt").asText()));
    }
    return out;
  }

  /** Reads tokenized JSONL back (for tests and tools). */
  public static List<TokenizedExample> readTokenized(String jsonl) throws IOException {
    List<TokenizedExample> out = new ArrayList<>();
    for (String line : jsonl.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      var node = JSON.readTree(line);
      long[] ids = toLongs(node.get("input_ids"));
      long[] labels = toLongs(node.get("labels"));
      out.add(new TokenizedExample(ids, labels, ids.length, false));
    }
    return out;
  }

  private static long[] toLongs(com.fasterxml.jackson.databind.JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
