package io.loraflow.gpu;

import io.loraflow.engine.session.ModelSession;
import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.PrefixPublisher;
import io.loraflow.workflows.TryRequest;
import io.loraflow.workflows.TryResult;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Try an adapter (the API's POST /v1/adapters/try), a thin adapter over {@link AdapterTrial}:
 * fetches the cached base model and the run's adapter from the object store, heartbeats while
 * loading and generating, and cleans its work directory.
 */
final class TryActivity {

  private final GpuSettings settings;
  private final BaseModelCache models;
  private final PrefixPublisher publisher;

  TryActivity(GpuSettings settings, ObjectStore store, BaseModelCache models) {
    this.settings = settings;
    this.models = models;
    this.publisher = new PrefixPublisher(store);
  }

  TryResult run(TryRequest req) {
    AdapterTrial.validate(req); // before any download
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    Path work = settings.workDir().resolve("try").resolve(UUID.randomUUID().toString());
    try (Heartbeats hb = new Heartbeats(ctx, settings.heartbeatEvery(), () -> "trying", () -> {})) {
      Path modelPath = models.local(req.model());
      Path adapterDir = work.resolve("adapter");
      publisher.download(TrainActivity.strip(req.adapterKey()), adapterDir);
      return AdapterTrial.answer(
          modelPath, adapterDir, req, ModelSession.device(settings.device()), hb::throwIfCancelled);
    } finally {
      BaseModelCache.deleteTree(work);
    }
  }
}
