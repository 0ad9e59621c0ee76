package io.loraflow.gpu;

import ai.djl.Device;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.session.ModelSession;
import io.loraflow.engine.train.Checkpoint;
import io.loraflow.engine.train.Example;
import io.loraflow.engine.train.TrainConfig;
import io.loraflow.engine.train.Trainer;
import io.loraflow.workflows.FailureTypes;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The train activity's engine objects: a {@link ModelSession} for training and the {@link Trainer}
 * over it, fresh or resumed exactly from a checkpoint directory.
 */
final class EngineSession implements AutoCloseable {
  final ModelFiles files;
  final ModelSession model;
  final Trainer trainer;

  private EngineSession(ModelFiles files, ModelSession model, Trainer trainer) {
    this.files = files;
    this.model = model;
    this.trainer = trainer;
  }

  /**
   * @param resumeFrom a complete local checkpoint directory, or null for a fresh run (its config
   *     wins over {@code config}: a resumed run continues with what it started with)
   * @throws ApplicationFailure non-retryable {@link FailureTypes#INVALID_TRAINING_CONFIG} when the
   *     config does not fit the model (sequence length, LoRA targets)
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
    TrainConfig effective = resumeFrom == null ? config : Checkpoint.readConfig(resumeFrom);
    ModelFiles files = ModelFiles.open(modelPath);
    ModelSession session = null;
    try {
      try {
        session = ModelSession.forTraining(files, effective, device, baseModel);
      } catch (IllegalArgumentException e) {
        throw ApplicationFailure.newNonRetryableFailure(
            e.getMessage(), FailureTypes.INVALID_TRAINING_CONFIG);
      }
      Trainer trainer =
          resumeFrom == null
              ? new Trainer(
                  session.model(),
                  session.loraModules(),
                  session.linears(),
                  effective,
                  data,
                  checkpointRoot,
                  baseModel)
              : Trainer.resume(
                  resumeFrom,
                  session.model(),
                  session.loraModules(),
                  session.linears(),
                  data,
                  checkpointRoot);
      return new EngineSession(files, session, trainer);
    } catch (RuntimeException | IOException e) {
      if (session != null) {
        session.close();
      }
      files.close();
      throw e;
    }
  }

  @Override
  public void close() {
    trainer.close();
    model.close();
    files.close();
  }
}
