package io.loraflow.workflows;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Set;

/**
 * The dataset URIs a run spec accepts (checked syntactically here; fetched by {@code
 * prepareDataset}):
 *
 * <ul>
 *   <li>{@code file:/abs/path.json} (only under the CPU worker's allowed roots)
 *   <li>{@code http://...} and {@code https://...}
 *   <li>{@code s3://<bucket>/<key>} (the configured object store, e.g. MinIO)
 *   <li>{@code hf://datasets/<org>/<name>[/<file>]} (Hugging Face hub resolve URLs; revision via
 *       {@code @rev} after the name, e.g. {@code hf://datasets/acme/faq@v2/train.jsonl})
 *   <li>{@code builtin:<name>} (a dataset shipped in the activities jar, e.g. {@code
 *       builtin:ecommerce-faq})
 * </ul>
 */
public final class DatasetUris {

  public static final Set<String> FORMATS =
      Set.of("auto", "nested-json", "jsonl", "csv", "alpaca", "chat");

  private DatasetUris() {}

  /** Null when the URI is acceptable, else why not. */
  public static String problem(String dataset) {
    if (dataset == null || dataset.isBlank()) {
      return "dataset is required: a URI like file:/data/faq.json, https://host/faq.jsonl,"
          + " s3://bucket/key, hf://datasets/<org>/<name>[/<file>] or builtin:ecommerce-faq";
    }
    URI uri;
    try {
      uri = new URI(dataset.trim());
    } catch (URISyntaxException e) {
      return "dataset '" + dataset + "' is not a valid URI: " + e.getMessage();
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    return switch (scheme) {
      case "file" ->
          uri.getPath() == null || uri.getPath().isEmpty()
              ? "dataset '" + dataset + "' must be an absolute file URI like file:/data/faq.json"
              : null;
      case "http", "https" ->
          uri.getHost() == null ? "dataset '" + dataset + "' has no host" : null;
      case "s3" ->
          uri.getHost() == null || uri.getPath() == null || uri.getPath().length() < 2
              ? "dataset '" + dataset + "' must look like s3://<bucket>/<key>"
              : null;
      case "hf" ->
          "datasets".equals(uri.getHost())
                  && uri.getPath() != null
                  && uri.getPath().split("/").length >= 3
              ? null
              : "dataset '" + dataset + "' must look like hf://datasets/<org>/<name>[/<file>]";
      case "builtin" ->
          uri.getSchemeSpecificPart().matches("[a-z0-9-]+")
              ? null
              : "dataset '"
                  + dataset
                  + "' must look like builtin:<name>, e.g. builtin:ecommerce-faq";
      case "" ->
          "dataset '"
              + dataset
              + "' has no scheme; use file:"
              + (dataset.startsWith("/") ? dataset : "/abs/path")
              + " or another URI";
      default ->
          "dataset '"
              + dataset
              + "' has unsupported scheme '"
              + scheme
              + "' (file:, http(s)://, s3://, hf://datasets/..., builtin:)";
    };
  }
}
