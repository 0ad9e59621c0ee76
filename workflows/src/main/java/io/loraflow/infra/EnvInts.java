package io.loraflow.infra;

import java.util.Map;

/**
 * Integer settings read from the environment, for the settings records of the workers and the
 * admission gate: one parse and one range check, so every variable fails the same way.
 */
public final class EnvInts {

  private EnvInts() {}

  /**
   * {@code env[key]} as an integer, or {@code fallback} when unset or blank.
   *
   * @throws IllegalArgumentException naming the variable when its value is not an integer
   */
  public static int intOf(Map<String, String> env, String key, int fallback) {
    String v = env.get(key);
    if (v == null || v.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          key + "='" + v + "' is not an integer (unset it for the default)", e);
    }
  }

  /**
   * @throws IllegalArgumentException naming the variable when {@code v} is outside [min, max]
   */
  public static void requireInRange(String key, int v, int min, int max) {
    if (v < min || v > max) {
      throw new IllegalArgumentException(key + " must be in [" + min + ", " + max + "], got " + v);
    }
  }
}
