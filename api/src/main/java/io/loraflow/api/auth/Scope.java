package io.loraflow.api.auth;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What an API key may do. Each scope includes the ones before it: {@code read} (GET runs, adapters,
 * comparisons, schedules), {@code write} (start, cancel, retrain, try an adapter, pause/resume
 * schedules), {@code admin} (delete schedules, the admin port when exposed).
 */
public enum Scope {
  READ,
  WRITE,
  ADMIN;

  /** True when a key with this scope may do what {@code needed} allows. */
  public boolean covers(Scope needed) {
    return ordinal() >= needed.ordinal();
  }

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** {@code read}, {@code write} or {@code admin} (case-insensitive). */
  @JsonCreator
  public static Scope parse(String text) {
    for (Scope s : values()) {
      if (s.wire().equalsIgnoreCase(text == null ? "" : text.strip())) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "scope '" + text + "' must be one of read, write, admin (each includes the ones before)");
  }
}
