package io.loraflow.workflows;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Immutable copies that keep insertion order. {@code Map.copyOf} iterates in an order salted per
 * JVM, which would make serialized activity inputs (and MLflow param order) differ between runs.
 */
final class OrderedMaps {
  private OrderedMaps() {}

  static <K, V> Map<K, V> copy(Map<K, V> map) {
    return map == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}
