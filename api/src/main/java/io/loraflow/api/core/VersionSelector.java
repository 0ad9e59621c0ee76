package io.loraflow.api.core;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A registered model version, as users write it: {@code models:/<name>/<version>}, {@code
 * models:/<name>@<alias>}, {@code <name>/<version>} or {@code <name>@<alias>} (MLflow's own URI
 * forms, with or without the scheme).
 *
 * @param name registered model name
 * @param version version number, or null when an alias is given
 * @param alias alias (e.g. champion), or null when a version is given
 */
public record VersionSelector(String name, String version, String alias) {

  private static final Pattern FORM =
      Pattern.compile(
          "(?:models:/)?([A-Za-z0-9][A-Za-z0-9._-]{0,127})(?:/(\\d+)|@([A-Za-z0-9_-]+))");

  /** Parses {@code text}, or null when it is not in one of the forms above. */
  public static VersionSelector parseOrNull(String text) {
    if (text == null) {
      return null;
    }
    Matcher m = FORM.matcher(text.strip());
    return m.matches() ? new VersionSelector(m.group(1), m.group(2), m.group(3)) : null;
  }

  /** Parses {@code text} or throws naming the accepted forms. */
  public static VersionSelector parse(String text) {
    VersionSelector ref = parseOrNull(text);
    if (ref == null) {
      throw new IllegalArgumentException(
          "model version '"
              + text
              + "' must look like models:/<name>/<version>, models:/<name>@<alias>,"
              + " <name>/<version> or <name>@<alias>");
    }
    return ref;
  }

  @Override
  public String toString() {
    return "models:/" + name + (version != null ? "/" + version : "@" + alias);
  }
}
