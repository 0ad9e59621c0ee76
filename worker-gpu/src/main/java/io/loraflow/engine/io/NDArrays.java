package io.loraflow.engine.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Turns little-endian tensor bytes into an NDArray of the requested dtype on a manager's device.
 */
final class NDArrays {

  private NDArrays() {}

  /**
   * Copies {@code raw} (little-endian, {@code source} layout) into a new array of {@code target}
   * dtype. bf16 is widened to fp32 in Java first (DJL's PyTorch engine has no bfloat16). The copy
   * means the array never aliases a read-only memory map.
   */
  static NDArray fromRaw(
      ByteBuffer raw, SafetensorsDtype source, Shape shape, NDManager manager, DataType target) {
    raw = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (source == SafetensorsDtype.BF16) {
      int n = raw.remaining() / 2;
      ByteBuffer f32 = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
      for (int i = 0; i < n; i++) {
        f32.putFloat(Half.bf16ToFloat(raw.getShort()));
      }
      f32.flip();
      return convert(manager.create(f32, shape, DataType.FLOAT32), target);
    }
    ByteBuffer copy = ByteBuffer.allocateDirect(raw.remaining()).order(ByteOrder.nativeOrder());
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN && source.bytes > 1) {
      throw new UnsupportedOperationException("big-endian hosts are not supported");
    }
    copy.put(raw).flip();
    return convert(manager.create(copy, shape, source.djl), target);
  }

  /** fp32 values (native order buffer, position 0) as an array of {@code target} dtype. */
  static NDArray fromFloats(ByteBuffer f32, Shape shape, NDManager manager, DataType target) {
    return convert(manager.create(f32, shape, DataType.FLOAT32), target);
  }

  static NDArray convert(NDArray array, DataType target) {
    if (target == null || array.getDataType() == target) {
      return array;
    }
    if (target == DataType.BFLOAT16) {
      array.close();
      throw new IllegalArgumentException(
          "bfloat16 is not available in DJL's PyTorch engine; load as FLOAT16 or FLOAT32");
    }
    NDArray converted = array.toType(target, false);
    array.close();
    return converted;
  }
}
