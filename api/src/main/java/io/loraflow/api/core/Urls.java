package io.loraflow.api.core;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** URL pieces for links into the web UIs of the stack. */
final class Urls {
  private Urls() {}

  /** Percent-encodes {@code s} as one path segment (a {@code /} inside becomes {@code %2F}). */
  static String encodePath(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
