package io.loraflow.gpu;

import io.loraflow.engine.train.Example;
import io.loraflow.engine.train.TokenizedDataset;
import io.loraflow.infra.ObjectStore;
import io.loraflow.workflows.PromptsRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A seeded sample of the training questions ("seen") for the evaluation report: their generation
 * prompts (train-prompts.jsonl) and the same lines of train.jsonl for their loss.
 *
 * @param prompts the sampled questions with their references and prompts
 * @param examples the tokenized training examples of the same questions, same order
 */
record SeenSample(List<io.loraflow.activities.prompts.EvalPrompt> prompts, List<Example> examples) {
  private static final Logger log = LoggerFactory.getLogger(SeenSample.class);

  static final SeenSample NONE = new SeenSample(List.of(), List.of());

  boolean isEmpty() {
    return prompts.isEmpty();
  }

  /**
   * Downloads the training prompts and examples of the run and keeps {@code n} of them, picked by
   * {@code seed}; {@link #NONE} when {@code n} is 0 or the run has no train-prompts.jsonl (runs
   * formatted before it existed).
   */
  static SeenSample load(
      ObjectStore store, PromptsRef prompts, Path work, int n, long seed, int maxSeqLen)
      throws IOException {
    if (n <= 0 || prompts.trainPromptsKey() == null || !store.exists(prompts.trainPromptsKey())) {
      return NONE;
    }
    Path promptsFile = work.resolve("train-prompts.jsonl");
    store.download(prompts.trainPromptsKey(), promptsFile);
    Path trainFile = work.resolve("train-seen.jsonl");
    store.download(prompts.trainKey(), trainFile);
    return fromFiles(promptsFile, trainFile, work, n, seed, maxSeqLen);
  }

  /**
   * The sample from local copies of train-prompts.jsonl and train.jsonl (same lines, same order),
   * {@link #NONE} when they do not line up; the sample's lines go to {@code work}.
   */
  static SeenSample fromFiles(
      Path promptsFile, Path trainFile, Path work, int n, long seed, int maxSeqLen)
      throws IOException {
    if (n <= 0) {
      return NONE;
    }
    List<io.loraflow.activities.prompts.EvalPrompt> all =
        io.loraflow.activities.prompts.PromptFormatter.readEvalPrompts(promptsFile);
    List<String> lines = nonBlank(Files.readAllLines(trainFile, StandardCharsets.UTF_8));
    if (lines.size() != all.size()) {
      log.warn(
          "{} has {} prompts but {} has {} examples: no seen-question evaluation",
          promptsFile.getFileName(),
          all.size(),
          trainFile.getFileName(),
          lines.size());
      return NONE;
    }
    List<Integer> picked = pick(all.size(), n, seed);
    List<io.loraflow.activities.prompts.EvalPrompt> chosen = new ArrayList<>();
    List<String> chosenLines = new ArrayList<>();
    for (int i : picked) {
      chosen.add(all.get(i));
      chosenLines.add(lines.get(i));
    }
    Path sample = work.resolve("train-sample.jsonl");
    Files.write(sample, chosenLines, StandardCharsets.UTF_8);
    List<Example> examples = TokenizedDataset.read(sample, maxSeqLen).examples();
    if (examples.size() != chosen.size()) {
      return NONE; // an example dropped on reading: the two lists would not line up
    }
    return new SeenSample(List.copyOf(chosen), examples);
  }

  /** {@code n} of {@code size} indices picked by {@code seed}, ascending (all when n >= size). */
  static List<Integer> pick(int size, int n, long seed) {
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      idx.add(i);
    }
    if (n >= size) {
      return idx;
    }
    Collections.shuffle(idx, new Random(seed));
    List<Integer> out = new ArrayList<>(idx.subList(0, n));
    Collections.sort(out);
    return out;
  }

  private static List<String> nonBlank(List<String> lines) {
    return lines.stream().filter(l -> !l.isBlank()).toList();
  }
}
