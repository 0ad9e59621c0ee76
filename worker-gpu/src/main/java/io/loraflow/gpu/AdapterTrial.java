package io.loraflow.gpu;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.generate.Generation;
import io.loraflow.engine.generate.GenerationConfig;
import io.loraflow.engine.generate.Generator;
import io.loraflow.engine.generate.TokenCodec;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.session.ModelSession;
import io.loraflow.engine.tokenizer.TextTokenizer;
import io.loraflow.workflows.FailureTypes;
import io.loraflow.workflows.TryRequest;
import io.loraflow.workflows.TryResult;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The pure core of "try an adapter": a local base model (GGUF file or HF directory) with a local
 * PEFT adapter directory answers one prompt. No Temporal, no object store: {@link TryActivity}
 * downloads the files and heartbeats around it.
 */
final class AdapterTrial {

  /** Most new tokens one try may ask for (the API's bound too). */
  static final int MAX_NEW_TOKENS = 512;

  private AdapterTrial() {}

  /**
   * A request that cannot be answered, as a non-retryable {@link FailureTypes#INVALID_RUN_SPEC}
   * naming the field.
   */
  static void validate(TryRequest req) {
    if (req.prompt() == null || req.prompt().isBlank()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "a try needs a non-blank prompt", FailureTypes.INVALID_RUN_SPEC);
    }
    if (req.maxNewTokens() < 1 || req.maxNewTokens() > MAX_NEW_TOKENS) {
      throw ApplicationFailure.newNonRetryableFailure(
          "maxNewTokens " + req.maxNewTokens() + " is outside [1, " + MAX_NEW_TOKENS + "]",
          FailureTypes.INVALID_RUN_SPEC);
    }
    if (!(req.temperature() >= 0 && req.temperature() <= 2)) {
      throw ApplicationFailure.newNonRetryableFailure(
          "temperature " + req.temperature() + " is outside [0, 2]", FailureTypes.INVALID_RUN_SPEC);
    }
  }

  /**
   * Answers {@code req.prompt()} (already in the run's template) with the adapter applied: greedy
   * when the temperature is 0, else seeded sampling (top-p 1, no top-k). {@code beforeGenerating}
   * runs once the model is loaded (the activity rethrows a cancellation there).
   *
   * @param model the base model as {@code ModelFiles.open} takes it
   * @param adapterDir a PEFT adapter ({@code adapter_config.json} + {@code
   *     adapter_model.safetensors})
   */
  static TryResult answer(
      Path model, Path adapterDir, TryRequest req, Device device, Runnable beforeGenerating) {
    validate(req);
    long started = System.nanoTime();
    DataType dtype = ModelSession.dtype(req.precision(), device);
    GenerationConfig generation =
        (req.temperature() > 0
                ? GenerationConfig.sampling(
                    req.maxNewTokens(), req.temperature(), 1.0, 0, req.seed())
                : GenerationConfig.greedy(req.maxNewTokens()).withSeed(req.seed()))
            .withEosTokenIds(req.model().eosTokenIds());
    try (ModelFiles files = ModelFiles.open(model);
        TextTokenizer tok = files.tokenizer();
        ModelSession session = ModelSession.withAdapter(files, adapterDir, dtype, device)) {
      session.useAdapter();
      beforeGenerating.run();
      // the prompt is encoded as training encoded prompts (special tokens on)
      TokenCodec codec = TokenCodec.of(t -> tok.encode(t, true), ids -> tok.decode(ids, true));
      long[] ids = codec.encode(req.prompt());
      Generation g =
          new Generator(session.model(), device, codec)
              .generate(List.of(ids), generation, (row, id, text) -> {})
              .sequences()
              .get(0);
      return new TryResult(
          codec.decode(g.tokens()).strip(),
          ids.length,
          g.tokens().length,
          g.finish() == Generation.Finish.EOS,
          (System.nanoTime() - started) / 1e9);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the adapter in " + adapterDir + ": " + e, e);
    }
  }
}
