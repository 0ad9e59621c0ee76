package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.io.WeightSource;

/**
 * Reads the tensors of one model from a {@link WeightSource}, checking each shape against what the
 * config implies before reading it, into the model's manager in the compute dtype.
 */
public final class WeightReader {

  private final WeightSource source;
  private final NDManager manager;
  private final DataType compute;

  public WeightReader(WeightSource source, NDManager manager, DataType compute) {
    this.source = source;
    this.manager = manager;
    this.compute = compute;
  }

  public boolean has(String name) {
    return source.names().contains(name);
  }

  /** The tensor {@code name}, which must have exactly {@code expected} shape. */
  public NDArray tensor(String name, long... expected) {
    if (!has(name)) {
      throw new ModelLoadException(
          source.description()
              + ": missing tensor '"
              + name
              + "' (expected shape "
              + new Shape(expected)
              + " from the config)");
    }
    Shape actual = source.shape(name);
    if (!actual.equals(new Shape(expected))) {
      throw new ModelLoadException(
          source.description()
              + ": tensor '"
              + name
              + "' has shape "
              + actual
              + " but the config ("
              + describe(source)
              + ") needs "
              + new Shape(expected));
    }
    NDArray a = source.load(name, manager, compute);
    if (a.getDataType() != compute) {
      NDArray cast = a.toType(compute, false);
      a.close();
      a = cast;
    }
    if (!a.getDevice().equals(manager.getDevice())) {
      NDArray moved = a.toDevice(manager.getDevice(), false);
      a.close();
      a = moved;
    }
    a.setName(name);
    return a;
  }

  /** The optional tensor {@code name} (e.g. a bias), null when {@code present} is false. */
  public NDArray optional(boolean present, String name, long... expected) {
    return present ? tensor(name, expected) : null;
  }

  /**
   * A linear module {@code module} (HF module path) of shape (out, in) built by {@code factory}.
   */
  public Linear linear(LinearFactory factory, String module, long out, long in, boolean bias) {
    NDArray w = tensor(module + ".weight", out, in);
    NDArray b;
    try {
      b = optional(bias, module + ".bias", out);
    } catch (RuntimeException e) {
      w.close();
      throw e;
    }
    Linear linear = factory.create(module, w, b);
    if (linear.outFeatures() != out || linear.inFeatures() != in) {
      linear.close();
      throw new ModelLoadException(
          "linear factory built "
              + module
              + " as ("
              + linear.outFeatures()
              + ", "
              + linear.inFeatures()
              + ") but the weight is ("
              + out
              + ", "
              + in
              + ")");
    }
    return linear;
  }

  private static String describe(WeightSource source) {
    ModelConfig c = source.config();
    return "hidden_size="
        + c.hiddenSize()
        + ", intermediate_size="
        + c.intermediateSize()
        + ", heads="
        + c.numHeads()
        + ", kv_heads="
        + c.numKvHeads()
        + ", head_dim="
        + c.headDim()
        + ", vocab_size="
        + c.vocabSize();
  }
}
