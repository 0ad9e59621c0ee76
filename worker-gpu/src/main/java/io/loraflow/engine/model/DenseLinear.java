package io.loraflow.engine.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Objects;

/**
 * A plain full-precision linear module: y = x W^T + b through {@code torch.nn.functional.linear},
 * so autograd runs through it.
 */
public final class DenseLinear implements Linear {

  private final NDArray weight; // (out, in)
  private final NDArray bias; // (out) or null

  /**
   * @param weight (outFeatures, inFeatures); this module owns it from now on
   * @param bias (outFeatures) or null; owned as well
   */
  public DenseLinear(NDArray weight, NDArray bias) {
    this.weight = Objects.requireNonNull(weight, "weight");
    if (weight.getShape().dimension() != 2) {
      throw new IllegalArgumentException("linear weight must be 2-D, got " + weight.getShape());
    }
    if (bias != null
        && (bias.getShape().dimension() != 1
            || bias.getShape().get(0) != weight.getShape().get(0))) {
      throw new IllegalArgumentException(
          "linear bias " + bias.getShape() + " does not match weight " + weight.getShape());
    }
    this.bias = bias;
  }

  /** A factory that keeps every weight dense, cast to {@code dtype} and moved to {@code device}. */
  public static LinearFactory factory(DataType dtype, Device device) {
    if (dtype != DataType.FLOAT32 && dtype != DataType.FLOAT16) {
      throw new IllegalArgumentException(
          "dense linear dtype must be FLOAT32 or FLOAT16, got " + dtype);
    }
    return (name, weight, bias) ->
        new DenseLinear(convert(weight, dtype, device), convert(bias, dtype, device));
  }

  private static NDArray convert(NDArray a, DataType dtype, Device device) {
    if (a == null) {
      return null;
    }
    NDArray moved = a.toDevice(device, false);
    NDArray cast = moved.toType(dtype, false);
    if (cast != a) {
      cast.attach(a.getManager());
      if (moved != a && moved != cast) {
        moved.close();
      }
      a.close();
    }
    return cast;
  }

  @Override
  public NDArray forward(NDArray x) {
    return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
  }

  /** (outFeatures, inFeatures), for merging and export. */
  public NDArray weight() {
    return weight;
  }

  /** (outFeatures) or null. */
  public NDArray bias() {
    return bias;
  }

  @Override
  public int inFeatures() {
    return (int) weight.getShape().get(1);
  }

  @Override
  public int outFeatures() {
    return (int) weight.getShape().get(0);
  }

  @Override
  public void close() {
    weight.close();
    if (bias != null) {
      bias.close();
    }
  }
}
