package io.loraflow.engine.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.model.ModelConfig;
import java.util.Set;

/**
 * Tensors of one model under their Hugging Face names and layouts (GGUF imports are renamed and
 * un-permuted), read one at a time so a 7B model never has to sit twice in memory.
 */
public interface WeightSource extends AutoCloseable {

  ModelConfig config();

  /** HF tensor names, e.g. "model.layers.0.self_attn.q_proj.weight". */
  Set<String> names();

  /** Shape of a tensor without reading it; throws naming the file if the tensor is absent. */
  Shape shape(String name);

  /**
   * Reads one tensor, dequantized/converted (bf16 included) to {@code dtype}, into {@code manager}.
   * Throws an exception naming the file and tensor when it is missing or corrupt.
   */
  NDArray load(String name, NDManager manager, DataType dtype);

  /** Where the tensors come from, for error messages. */
  String description();

  @Override
  void close();
}
