package io.loraflow.engine.model;

/**
 * Per-layer past keys and values for incremental decoding. Implementations own their arrays and
 * free them on close.
 */
public interface KvCache extends AutoCloseable {

  /** Number of key positions already stored (the S - T of the next call). */
  int length();

  @Override
  void close();
}
