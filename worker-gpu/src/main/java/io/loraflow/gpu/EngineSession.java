package io.loraflow.gpu;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.lora.LoraLinearFactory;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.model.Models;
import io.loraflow.engine.train.Example;
import io.loraflow.engine.train.TrainConfig;
import io.loraflow.engine.train.Trainer;
import io.loraflow.workflows.FailureTypes;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A base model with LoRA modules on one device, and the {@link Trainer} over it: fresh, or resumed
 * exactly from a checkpoint directory. The only place the activities build engine objects.
 */
final class EngineSession implements AutoCloseable {
  final ModelFiles files;
  final NDManager manager;
  final LoraLinearFactory factory;
  final CausalLM model;
  final Trainer trainer;

  private EngineSession(
      ModelFiles files,
      NDManager manager,
      LoraLinearFactory factory,
      CausalLM model,
      Trainer trainer) {
    this.files = files;
    this.manager = manager;
    this.factory = factory;
    this.model = model;
    this.trainer = trainer;
  }

  static Device device(String setting) {
    return switch (setting) {
      case "cpu" -> Device.cpu();
      case "gpu" -> Device.gpu();
      default -> ai.djl.engine.Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
    };
  }

  /**
   * @param resumeFrom a complete local checkpoint directory, or null for a fresh run (its config
   *     wins over {@code config}: a resumed run continues with what it started with)
   */
  static EngineSession open(
      Path modelPath,
      TrainConfig config,
      List<Example> data,
      Path checkpointRoot,
      String baseModel,
      Path resumeFrom,
      Device device)
      throws IOException {
    TrainConfig effective =
        resumeFrom == null ? config : io.loraflow.engine.train.Checkpoint.readConfig(resumeFrom);
    DataType dtype =
        effective.precision() == TrainConfig.Precision.FP16 ? DataType.FLOAT16 : DataType.FLOAT32;
    ModelFiles files = ModelFiles.open(modelPath);
    NDManager manager = NDManager.newBaseManager(device);
    try {
      LoraLinearFactory factory =
          new LoraLinearFactory(
              effective.lora(effective.resolvedTargets(files.config().family())),
              effective.baseFormat(),
              dtype,
              manager,
              effective.seed());
      CausalLM model = Models.build(files.weights(), factory, dtype, device);
      List<String> linears = List.copyOf(model.linears().keySet());
      try {
        effective.validateAgainst(files.config(), linears, baseModel);
        factory.requireAllTargetsMatched();
      } catch (IllegalArgumentException e) {
        model.close();
        throw ApplicationFailure.newNonRetryableFailure(
            e.getMessage(), FailureTypes.INVALID_TRAINING_CONFIG);
      }
      Trainer trainer =
          resumeFrom == null
              ? new Trainer(
                  model, factory.loraModules(), linears, effective, data, checkpointRoot, baseModel)
              : Trainer.resume(
                  resumeFrom, model, factory.loraModules(), linears, data, checkpointRoot);
      return new EngineSession(files, manager, factory, model, trainer);
    } catch (RuntimeException | IOException e) {
      manager.close();
      files.close();
      throw e;
    }
  }

  @Override
  public void close() {
    trainer.close();
    model.close();
    manager.close();
    files.close();
  }
}
