package io.loraflow.engine.session;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.lora.BaseFormat;
import io.loraflow.engine.lora.LoraConfig;
import io.loraflow.engine.lora.LoraLinear;
import io.loraflow.engine.lora.LoraLinearFactory;
import io.loraflow.engine.lora.PeftAdapter;
import io.loraflow.engine.model.CausalLM;
import io.loraflow.engine.model.DenseLinear;
import io.loraflow.engine.model.Models;
import io.loraflow.engine.train.LinearModules;
import io.loraflow.engine.train.TrainConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A base model loaded on one device, with or without LoRA modules: the one place that builds one
 * (the train and evaluate activities, {@code loraflow train}, {@code chat} and {@code generate}).
 *
 * <p>The session owns one {@link NDManager} on its device holding every weight (frozen base, LoRA
 * A/B, a loaded adapter) and the model; {@link #close()} frees all of it. It borrows {@link
 * ModelFiles}: the caller opens them first (to read the tokenizer, validate data, ...) and closes
 * them after the session. A failed open leaves nothing allocated.
 *
 * @param manager owns every weight of the session, on {@code device}
 * @param factory the LoRA factory (frozen-base bytes, keepDequantized); null for a {@link #plain}
 *     session
 * @param model the model; its linears come from {@code factory}
 * @param adapter the PEFT adapter the session was opened with, or null
 * @param device where every weight lives
 * @param dtype compute dtype, FLOAT16 or FLOAT32
 */
public record ModelSession(
    NDManager manager,
    LoraLinearFactory factory,
    CausalLM model,
    PeftAdapter adapter,
    Device device,
    DataType dtype)
    implements AutoCloseable {

  /**
   * For training with {@code config}: its LoRA targets (or the family default), base format, seed
   * and precision. The config is checked against the model's headers (sequence length, every target
   * present) before any weight is read.
   *
   * @param modelName how errors name the model
   * @throws IllegalArgumentException when the config does not fit the model
   */
  public static ModelSession forTraining(
      ModelFiles files, TrainConfig config, Device device, String modelName) {
    config.validateAgainst(files.config(), LinearModules.of(files.weights()), modelName);
    return withLora(
        files,
        config.lora(config.resolvedTargets(files.config().family())),
        config.baseFormat(),
        dtype(config.precision()),
        device,
        config.seed());
  }

  /**
   * For inference with the PEFT adapter in {@code adapterDir}: its LoRA shape on an NF4 base, in
   * eval mode (no dropout). Starts as exactly the base model (every B is zero); {@link
   * #useAdapter()} loads the adapter's weights.
   */
  public static ModelSession withAdapter(
      ModelFiles files, Path adapterDir, DataType dtype, Device device) throws IOException {
    NDManager manager = NDManager.newBaseManager(device);
    try {
      PeftAdapter adapter = PeftAdapter.load(adapterDir, manager);
      ModelSession s =
          build(files, adapter.config(), BaseFormat.NF4, dtype, device, 0, manager, adapter);
      s.loraModules().values().forEach(m -> m.setTraining(false));
      return s;
    } catch (RuntimeException | IOException e) {
      manager.close();
      throw e;
    }
  }

  /** LoRA branches of {@code lora} on a {@code baseFormat} base; A seeded by {@code seed}. */
  public static ModelSession withLora(
      ModelFiles files,
      LoraConfig lora,
      BaseFormat baseFormat,
      DataType dtype,
      Device device,
      long seed) {
    NDManager manager = NDManager.newBaseManager(device);
    try {
      return build(files, lora, baseFormat, dtype, device, seed, manager, null);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** The base model alone with dense linears in {@code dtype} (no LoRA, no quantization). */
  public static ModelSession plain(ModelFiles files, DataType dtype, Device device) {
    NDManager manager = NDManager.newBaseManager(device);
    try {
      CausalLM model =
          Models.build(files.weights(), DenseLinear.factory(dtype, device), dtype, device);
      return new ModelSession(manager, null, model, null, device, dtype);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  private static ModelSession build(
      ModelFiles files,
      LoraConfig lora,
      BaseFormat baseFormat,
      DataType dtype,
      Device device,
      long seed,
      NDManager manager,
      PeftAdapter adapter) {
    LoraLinearFactory factory = new LoraLinearFactory(lora, baseFormat, dtype, manager, seed);
    CausalLM model = Models.build(files.weights(), factory, dtype, device);
    try {
      factory.requireAllTargetsMatched();
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    return new ModelSession(manager, factory, model, adapter, device, dtype);
  }

  /** fp16 or fp32 compute for a training precision. */
  public static DataType dtype(TrainConfig.Precision precision) {
    return precision == TrainConfig.Precision.FP16 ? DataType.FLOAT16 : DataType.FLOAT32;
  }

  /** Compute dtype for a run spec's precision: "fp16", "fp32", or "auto" (fp16 on a GPU). */
  public static DataType dtype(String precision, Device device) {
    return switch (precision == null ? "auto" : precision) {
      case "fp16" -> DataType.FLOAT16;
      case "fp32" -> DataType.FLOAT32;
      default -> device.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
    };
  }

  /** "cpu", "gpu", or anything else (e.g. "auto"): the GPU when there is one. */
  public static Device device(String setting) {
    return switch (setting == null ? "auto" : setting) {
      case "cpu" -> Device.cpu();
      case "gpu" -> Device.gpu();
      default -> Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
    };
  }

  /** Loads the adapter's A and B into the LoRA modules (sessions opened {@link #withAdapter}). */
  public void useAdapter() {
    if (adapter == null) {
      throw new IllegalStateException("this session was opened without an adapter");
    }
    adapter.applyTo(loraModules());
  }

  /** Sets every LoRA B to zero: the model computes exactly the base function again. */
  public void useBase() {
    for (LoraLinear m : loraModules().values()) {
      m.loraB().set(new float[(int) m.loraB().size()]);
    }
  }

  /** LoRA modules by HF module path, in load order (empty for a {@link #plain} session). */
  public Map<String, LoraLinear> loraModules() {
    return factory == null ? Map.of() : factory.loraModules();
  }

  /** Every linear module path of the model, in load order. */
  public List<String> linears() {
    return List.copyOf(model.linears().keySet());
  }

  @Override
  public void close() {
    try {
      model.close();
    } finally {
      manager.close();
    }
  }
}
