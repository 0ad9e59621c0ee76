package io.loraflow.gpu;

import io.loraflow.infra.ObjectStore;
import io.loraflow.infra.mlflow.Tracking;
import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.BaseModelRequest;
import io.loraflow.workflows.EvalRequest;
import io.loraflow.workflows.EvalResult;
import io.loraflow.workflows.GpuActivities;
import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.TrainRequest;
import io.loraflow.workflows.TrainResult;
import io.loraflow.workflows.TryRequest;
import io.loraflow.workflows.TryResult;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GPU activities: thin adapters from the workflow contract to the engine, the object store and
 * MLflow. Stateless between calls: everything comes in as keys and goes out as keys.
 */
public final class GpuActivitiesImpl implements GpuActivities {
  private static final Logger log = LoggerFactory.getLogger(GpuActivitiesImpl.class);

  private final GpuSettings settings;
  private final ObjectStore store;
  private final Tracking tracking;
  private final BaseModelSources sources;
  private final BaseModelCache models;
  private final TrainActivity train;
  private final EvalActivity eval;
  private final TryActivity tryer;

  public GpuActivitiesImpl(GpuSettings settings, ObjectStore store, Tracking tracking) {
    io.loraflow.infra.TokenizerFlavor.useCpuUnlessSet(); // also when embedded, not only in main
    this.settings = settings;
    this.store = store;
    this.tracking = tracking;
    this.sources = new BaseModelSources(settings, store);
    this.models = new BaseModelCache(store, settings.workDir().resolve("models"));
    this.train = new TrainActivity(settings, store, tracking, models);
    this.eval = new EvalActivity(settings, store, tracking, models);
    this.tryer = new TryActivity(settings, store, models);
  }

  @Override
  public BaseModelRef prepareBaseModel(BaseModelRequest request) {
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    Optional<BaseModelRef> cached = models.find(request.baseModel(), request.storageName());
    if (cached.isPresent()) {
      return cached.get();
    }
    ProgressReporter progress = new ProgressReporter(Phase.PREPARING_MODEL);
    progress.report(Progress.of(Phase.PREPARING_MODEL, "fetching " + request.baseModel()));
    try (Heartbeats hb =
        new Heartbeats(ctx, settings.heartbeatEvery(), progress::latest, () -> {})) {
      var local = sources.resolve(request.baseModel(), request.storageName());
      progress.report(Progress.of(Phase.PREPARING_MODEL, "uploading " + local.getFileName()));
      BaseModelRef ref =
          models.publish(request.baseModel(), request.storageName(), local, hb::beat);
      hb.throwIfCancelled();
      log.info("base model {} cached as {}", request.baseModel(), ref.modelKey());
      return ref;
    }
  }

  @Override
  public TrainResult train(TrainRequest request) {
    return WorkerEnvironment.guard("train", () -> train.run(request));
  }

  @Override
  public EvalResult evaluate(EvalRequest request) {
    return WorkerEnvironment.guard(
        "evaluate", () -> eval.run(request, new ProgressReporter(Phase.EVALUATING)));
  }

  @Override
  public TryResult generate(TryRequest request) {
    return WorkerEnvironment.guard("generate", () -> tryer.run(request));
  }

  /** SIGTERM: running training checkpoints and stops; the attempt fails retryably. */
  public void requestStop() {
    train.requestStopAll();
    eval.requestStopAll();
  }
}
