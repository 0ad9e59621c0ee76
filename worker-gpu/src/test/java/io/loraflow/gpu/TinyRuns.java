package io.loraflow.gpu;

import io.loraflow.activities.dataset.QaPair;
import io.loraflow.activities.prompts.FormattedSplits;
import io.loraflow.activities.prompts.PromptFormatter;
import io.loraflow.activities.prompts.PromptTemplate;
import io.loraflow.infra.ObjectStore;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.PromptsRef;
import io.loraflow.workflows.StorageKeys;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Inputs of tiny real training runs for the GPU activity ITs. */
final class TinyRuns {
  private TinyRuns() {}

  /**
   * {@code pairs} synthetic FAQ pairs, tokenized by the pipeline's PromptFormatter (tokenizer of
   * {@code model}), split 80/20 and stored under the run's prompts keys as formatPrompts does.
   */
  static PromptsRef prompts(
      ObjectStore store, BaseModelRef model, Path work, String runId, int pairs) throws Exception {
    Path tok = work.resolve("tok-" + runId + ".json");
    store.download(model.tokenizerKey(), tok);
    List<QaPair> qa = new ArrayList<>();
    for (int i = 0; i < pairs; i++) {
      qa.add(
          new QaPair(
              "How long does shipping to zone " + i + " take?",
              "Shipping to zone " + i + " takes " + (i % 5 + 1) + " business days.",
              i,
              i + 1));
    }
    try (PromptFormatter f =
        PromptFormatter.open(tok, PromptTemplate.DEFAULT, model.eosTokenIds().get(0), 64)) {
      FormattedSplits splits = f.format(qa, 0.2, 7);
      ByteArrayOutputStream train = new ByteArrayOutputStream();
      PromptFormatter.writeTokenized(splits.train(), train);
      ByteArrayOutputStream eval = new ByteArrayOutputStream();
      PromptFormatter.writeTokenized(splits.eval(), eval);
      ByteArrayOutputStream evalPrompts = new ByteArrayOutputStream();
      PromptFormatter.writeEvalPrompts(splits.evalPrompts(), evalPrompts);
      store.put(StorageKeys.promptsTrain(runId), train.toByteArray());
      store.put(StorageKeys.promptsEval(runId), eval.toByteArray());
      store.put(StorageKeys.promptsEvalPrompts(runId), evalPrompts.toByteArray());
    }
    return new PromptsRef(
        StorageKeys.promptsTrain(runId),
        StorageKeys.promptsEval(runId),
        StorageKeys.promptsEvalPrompts(runId),
        StorageKeys.promptsStats(runId),
        model.tokenizerKey(),
        null);
  }
}
