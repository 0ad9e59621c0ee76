package io.loraflow.engine.model;

import ai.djl.ndarray.NDArray;
import io.loraflow.engine.nativeops.FastOps;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;

/** The MLP activations HF configs name, by their HF names. */
public final class Activations {

  private Activations() {}

  /** The activation HF calls {@code name}; throws naming it when unsupported. */
  public static UnaryOperator<NDArray> byName(String name) {
    switch (name == null ? "" : name) {
      case "silu":
      case "swish":
        return x -> x.mul(x.getNDArrayInternal().sigmoid());
      case "gelu":
        // torch.nn.functional.gelu, exact erf form (HF GELUActivation)
        return x -> x.getNDArrayInternal().gelu();
      case "gelu_pytorch_tanh":
      case "gelu_new":
        return Activations::geluTanh;
      case "relu":
        return x -> x.getNDArrayInternal().relu();
      default:
        throw new ModelLoadException(
            "unsupported hidden_act '"
                + name
                + "' (supported: silu, gelu, gelu_pytorch_tanh, relu)");
    }
  }

  /**
   * The gated MLP product act(gate) * up (Llama's SwiGLU for silu); one native call on the GPU fast
   * path for silu.
   */
  public static BinaryOperator<NDArray> gated(String name) {
    UnaryOperator<NDArray> act = byName(name);
    boolean silu = "silu".equals(name) || "swish".equals(name);
    return (gate, up) ->
        silu && FastOps.activeFor(gate) ? FastOps.siluMul(gate, up) : act.apply(gate).mul(up);
  }

  /**
   * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). The constants are device scalars ({@link
   * Scalars}): a Java-number operand ({@code x.mul(0.5)}) is host memory that autograd would keep
   * for the backward pass after DJL lets it go (GcPressureTest).
   */
  private static NDArray geluTanh(NDArray x) {
    NDArray cube = x.mul(x).mul(x);
    NDArray inner = Scalars.mul(x.add(Scalars.mul(cube, 0.044715)), Math.sqrt(2 / Math.PI));
    return Scalars.mul(x, 0.5).mul(Scalars.add(inner.getNDArrayInternal().tanh(), 1));
  }
}
