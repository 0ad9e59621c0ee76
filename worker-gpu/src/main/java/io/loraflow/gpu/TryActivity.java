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
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.workflows.TryRequest;
import io.loraflow.workflows.TryResult;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * Try an adapter: the base model with a run's adapter answers one prompt (the API's POST
 * /v1/adapters/try). Loads like the evaluate step (NF4 base, LoRA applied), generates greedily or
 * with a temperature, and cleans its work directory. Heartbeats while loading and generating.
 */
final class TryActivity {

  private final GpuSettings settings;
  private final ObjectStore store;
  private final BaseModelCache models;
  private final PrefixPublisher publisher;

  TryActivity(GpuSettings settings, ObjectStore store, BaseModelCache models) {
    this.settings = settings;
    this.store = store;
    this.models = models;
    this.publisher = new PrefixPublisher(store);
  }

  TryResult run(TryRequest req) {
    if (req.prompt() == null
        || req.prompt().isBlank()
        || req.maxNewTokens() < 1
        || req.maxNewTokens() > 512) {
      throw ApplicationFailure.newNonRetryableFailure(
          "a try needs a prompt and maxNewTokens in [1, 512]", "InvalidRunSpec");
    }
    long started = System.nanoTime();
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    Path work = settings.workDir().resolve("try").resolve(UUID.randomUUID().toString());
    try (Heartbeats hb = new Heartbeats(ctx, settings.heartbeatEvery(), () -> "trying", () -> {})) {
      Path modelPath = models.local(req.model());
      Path adapterDir = work.resolve("adapter");
      publisher.download(TrainActivity.strip(req.adapterKey()), adapterDir);
      Device device = ModelSession.device(settings.device());
      DataType dtype = ModelSession.dtype(req.precision(), device);
      GenerationConfig generation =
          (req.temperature() > 0
                  ? GenerationConfig.sampling(
                      req.maxNewTokens(), req.temperature(), 1.0, 0, req.seed())
                  : GenerationConfig.greedy(req.maxNewTokens()).withSeed(req.seed()))
              .withEosTokenIds(req.model().eosTokenIds());
      try (ModelFiles files = ModelFiles.open(modelPath);
          TextTokenizer tok = files.tokenizer();
          ModelSession session = ModelSession.withAdapter(files, adapterDir, dtype, device)) {
        session.useAdapter();
        hb.throwIfCancelled();
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
      }
    } catch (IOException e) {
      throw new UncheckedIOException("trying the adapter of " + req.runId() + " failed: " + e, e);
    } finally {
      BaseModelCache.deleteTree(work);
    }
  }
}
