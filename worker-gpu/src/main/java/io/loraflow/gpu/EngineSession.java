package io.loraflow.gpu;

import ai.djl.Device;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.io.ModelFormatException;
import io.loraflow.engine.model.ModelLoadException;
import io.loraflow.engine.session.ModelSession;
import io.loraflow.engine.train.Checkpoint;
import io.loraflow.engine.train.CheckpointingPolicy;
import io.loraflow.engine.train.Example;
import io.loraflow.engine.train.MemoryProbe;
import io.loraflow.engine.train.TrainConfig;
import io.loraflow.engine.train.Trainer;
import io.loraflow.workflows.FailureTypes;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The train activity's engine objects: a {@link ModelSession} for training and the {@link Trainer}
 * over it, fresh or resumed exactly from a checkpoint directory.
 */
final class EngineSession implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EngineSession.class);

  /**
   * On a CPU, a base whose frozen NF4 linears are at most this (256 MiB NF4, about 2 GiB once
   * dequantized to fp32: SmolLM2-135M has 52 MiB) keeps every weight dequantized between calls.
   */
  static final long KEEP_DEQUANTIZED_MAX_BYTES = 256L << 20;

  final ModelFiles files;
  final ModelSession model;
  final Trainer trainer;

  private EngineSession(ModelFiles files, ModelSession model, Trainer trainer) {
    this.files = files;
    this.model = model;
    this.trainer = trainer;
  }

  /**
   * Every native resource made here is closed again when a later step fails (model files, the model
   * session with its weights, the trainer's optimizer state), so a failing retry leaks nothing.
   * Failures that no retry can fix are non-retryable ApplicationFailures whose message says what to
   * change: {@link FailureTypes#INVALID_BASE_MODEL} (unreadable or unsupported model), {@link
   * FailureTypes#INVALID_TRAINING_CONFIG} (the config does not fit the model: sequence length, LoRA
   * targets), {@link FailureTypes#CHECKPOINT_MISMATCH} (the resume checkpoint does not fit this
   * run).
   *
   * @param resumeFrom a complete local checkpoint directory, or null for a fresh run (its config
   *     wins over {@code config}: a resumed run continues with what it started with)
   * @param resumeKey the checkpoint's object-store key, for messages (null for a fresh run)
   */
  static EngineSession open(
      Path modelPath,
      TrainConfig config,
      List<Example> data,
      Path checkpointRoot,
      String baseModel,
      Path resumeFrom,
      String resumeKey,
      Device device)
      throws IOException {
    TrainConfig effective = resumeFrom == null ? config : Checkpoint.readConfig(resumeFrom);
    // closed in reverse order if anything below fails
    Deque<AutoCloseable> made = new ArrayDeque<>();
    try {
      ModelFiles files = loadStep(baseModel, () -> ModelFiles.open(modelPath));
      made.push(files);
      ModelSession session;
      try {
        session =
            loadStep(
                baseModel, () -> ModelSession.forTraining(files, effective, device, baseModel));
      } catch (IllegalArgumentException e) {
        throw ApplicationFailure.newNonRetryableFailureWithCause(
            "training config does not fit base model " + baseModel + ": " + e.getMessage(),
            FailureTypes.INVALID_TRAINING_CONFIG,
            e);
      }
      made.push(session);
      if (!device.isGpu() && session.factory().baseBytes() <= KEEP_DEQUANTIZED_MAX_BYTES) {
        // same numbers, one dequantization per weight instead of one per forward and backward
        session.factory().keepDequantized(true);
      }
      Trainer trainer;
      if (resumeFrom == null) {
        // a fresh run decides gradient checkpointing for this model and device; a resume keeps the
        // checkpoint's decision (it is part of the config it recorded)
        CheckpointingPolicy.Decision decision =
            CheckpointingPolicy.resolve(
                effective,
                files.config(),
                session.factory().baseParams(),
                MemoryProbe.totalBytes(device),
                effective.packing()
                    ? effective.maxSeqLen()
                    : data.stream().mapToInt(Example::length).max().orElse(effective.maxSeqLen()));
        TrainConfig chosen = decision.config();
        if (decision.turnedOff()) {
          LOG.info(
              "{}: gradient checkpointing off: everything backward keeps fits in {} MiB (budget {}"
                  + " MiB)",
              baseModel,
              decision.keptBytes() >> 20,
              decision.budgetBytes() >> 20);
        } else if (effective.gradientCheckpointing() && device.isGpu()) {
          // on a GPU this also turns CUDA graphs off: say why (a GPU host's run, session 17,
          // kept checkpointing for SmolLM2 at batch 2 and nothing told which number decided it)
          LOG.info(
              "{}: gradient checkpointing stays on: {}",
              baseModel,
              decision.budgetBytes() < 0
                  ? "the GPU's memory could not be read (cudaMemGetInfo through DJL's CudaUtils or"
                      + " the native extension, MemoryProbe logs why)"
                  : "everything backward keeps, "
                      + (decision.keptBytes() >> 20)
                      + " MiB, is over the budget of "
                      + (decision.budgetBytes() >> 20)
                      + " MiB");
        }
        try {
          trainer =
              new Trainer(
                  session.model(),
                  session.loraModules(),
                  session.linears(),
                  chosen,
                  data,
                  checkpointRoot,
                  baseModel);
        } catch (IllegalArgumentException e) {
          throw ApplicationFailure.newNonRetryableFailureWithCause(
              "training config does not fit base model " + baseModel + ": " + e.getMessage(),
              FailureTypes.INVALID_TRAINING_CONFIG,
              e);
        }
      } else {
        try {
          trainer =
              Trainer.resume(
                  resumeFrom,
                  session.model(),
                  session.loraModules(),
                  session.linears(),
                  data,
                  checkpointRoot);
        } catch (IllegalArgumentException e) {
          throw ApplicationFailure.newNonRetryableFailureWithCause(
              "resume checkpoint "
                  + resumeKey
                  + " does not fit this run: "
                  + e.getMessage()
                  + "; the training data or plan changed since it was written. Start a new run"
                  + " (a new run id), or delete the run's checkpoints/ prefix to train this one"
                  + " from the start",
              FailureTypes.CHECKPOINT_MISMATCH,
              e);
        }
      }
      return new EngineSession(files, session, trainer);
    } catch (RuntimeException | IOException e) {
      closeAll(made, e);
      throw e;
    }
  }

  /**
   * Loading the base model: unreadable or unsupported files are the model's fault, not a retry's.
   */
  private static <T> T loadStep(String baseModel, Supplier<T> step) {
    try {
      return step.get();
    } catch (ModelFormatException | ModelLoadException e) {
      throw ApplicationFailure.newNonRetryableFailureWithCause(
          "base model "
              + baseModel
              + " cannot be loaded: "
              + e.getMessage()
              + "; use a Hugging Face model directory (config.json + *.safetensors) or a GGUF file"
              + " of a Llama or Falcon family model",
          FailureTypes.INVALID_BASE_MODEL,
          e);
    }
  }

  private static void closeAll(Deque<AutoCloseable> made, Exception failure) {
    while (!made.isEmpty()) {
      try {
        made.pop().close();
      } catch (Exception e) {
        failure.addSuppressed(e);
      }
    }
  }

  /** Closes everything (trainer, model session, files), each even when an earlier one fails. */
  @Override
  public void close() {
    Deque<AutoCloseable> all = new ArrayDeque<>(List.of(trainer, model, files));
    RuntimeException failure = new IllegalStateException("closing the engine session failed");
    closeAll(all, failure);
    if (failure.getSuppressed().length > 0) {
      throw failure;
    }
  }
}
