package io.loraflow.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The few autograd calls the trainer needs, straight to DJL's PyTorch JNI (the engine we run on).
 * DJL's GradientCollector only offers backward(loss) with an all-ones seed and allows one collector
 * per JVM; gradient checkpointing needs backward(out, gradOut) per block, which torch has. Grad
 * mode is thread-local in torch, like the training loop.
 */
final class Autograd {

  private Autograd() {}

  static boolean gradMode() {
    return JniUtils.isGradMode();
  }

  static void setGradMode(boolean on) {
    JniUtils.setGradMode(on);
  }

  /** Accumulates d(sum(out * gradOut))/d(leaf) into every leaf that requires a gradient. */
  static void backward(NDArray out, NDArray gradOut) {
    JniUtils.backward((PtNDArray) out, (PtNDArray) gradOut, false, false);
  }

  /** The accumulated gradient of a leaf, or null if none reached it. */
  static NDArray gradient(NDArray leaf) {
    return JniUtils.getGradient((PtNDArray) leaf);
  }

  static void zeroGradient(NDArray leaf) {
    JniUtils.zeroGrad((PtNDArray) leaf);
  }

  /** Seeds torch's generators (CPU and CUDA): dropout masks are a function of this seed. */
  static void seed(long seed) {
    JniUtils.setSeed(seed);
  }
}
