package io.loraflow.engine.model;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.loraflow.engine.falcon.FalconModel;
import io.loraflow.engine.io.WeightSource;
import io.loraflow.engine.llama.LlamaModel;
import io.loraflow.engine.nativeops.FastOps;

/** Builds the right {@link CausalLM} for a {@link WeightSource}'s config. */
public final class Models {

  private Models() {}

  /**
   * Reads every weight of {@code source} into a model on {@code device}. Linear modules come from
   * {@code factory} (named by HF module path); embeddings and norms are plain arrays in {@code
   * compute}. Every tensor's shape is checked against the config first; on any failure nothing
   * stays allocated.
   *
   * @param compute FLOAT32 or FLOAT16
   * @throws ModelLoadException naming the source and tensor when a weight is missing or misshapen
   */
  public static CausalLM build(
      WeightSource source, LinearFactory factory, DataType compute, Device device) {
    if (compute != DataType.FLOAT32 && compute != DataType.FLOAT16) {
      throw new IllegalArgumentException(
          "compute dtype must be FLOAT32 or FLOAT16 (DJL's PyTorch engine has no bfloat16), got "
              + compute);
    }
    ModelConfig config = source.config();
    FastOps.logPathOnce(device); // "GPU fast path on/off: why"
    switch (config.family()) {
      case LLAMA:
        return LlamaModel.load(source, factory, compute, device);
      case FALCON:
        return FalconModel.load(source, factory, compute, device);
      default:
        throw new ModelLoadException(
            source.description() + ": unsupported model family " + config.family());
    }
  }
}
