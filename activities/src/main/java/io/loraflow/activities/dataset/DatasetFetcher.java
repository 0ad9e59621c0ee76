package io.loraflow.activities.dataset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Fetches dataset bytes from {@code file:} (only under the allowed roots), {@code http(s)://},
 * {@code s3://bucket/key} (through a {@link BlobReader}), {@code hf://datasets/<org>/<name>
 * [@rev][/<file>]} (the hub's resolve URLs) and {@code builtin:<name>} (classpath {@code
 * datasets/<name>.json}). Every failure is a {@link DatasetException} whose message names the URI.
 */
public final class DatasetFetcher {

  /** Builtin datasets shipped as resources under {@code datasets/}. */
  public static final Set<String> BUILTINS = Set.of("ecommerce-faq");

  private static final Set<String> DATA_EXTENSIONS = Set.of(".json", ".jsonl", ".ndjson", ".csv");

  private final DatasetConfig config;
  private final BlobReader blobs;
  private final PinnedHttp http;
  private final AddressPolicy addresses;
  private final HostResolver resolver;

  /** Most redirects one fetch follows. */
  static final int MAX_REDIRECTS = 5;

  private final ObjectMapper json = new ObjectMapper();

  /**
   * @param blobs reader for {@code s3://} URIs; null when the worker has no object store
   */
  public DatasetFetcher(DatasetConfig config, BlobReader blobs) {
    this(config, blobs, AddressPolicy.fromEnv(System.getenv()));
  }

  /**
   * @param addresses which hosts http(s) URIs may reach; the hub endpoint (operator configuration)
   *     is always allowed
   */
  public DatasetFetcher(DatasetConfig config, BlobReader blobs, AddressPolicy addresses) {
    this(config, blobs, addresses, HostResolver.system(), defaultTls());
  }

  /**
   * @param resolver answers each host lookup once per fetch and redirect; the fetch connects to the
   *     address it vetted from that answer
   * @param tls trust for https fetches
   */
  public DatasetFetcher(
      DatasetConfig config,
      BlobReader blobs,
      AddressPolicy addresses,
      HostResolver resolver,
      javax.net.ssl.SSLContext tls) {
    this.config = config;
    this.resolver = resolver;
    this.blobs = blobs;
    java.util.Set<String> hosts = new java.util.HashSet<>(addresses.allowedHosts());
    if (config.hfEndpoint().getHost() != null) {
      hosts.add(config.hfEndpoint().getHost().toLowerCase(Locale.ROOT));
    }
    this.addresses = new AddressPolicy(hosts, addresses.allowedNetworks());
    // redirects are followed by get(), which vets every target against the address policy
    this.http = new PinnedHttp(tls, config.connectTimeout(), config.requestTimeout());
  }

  private static javax.net.ssl.SSLContext defaultTls() {
    try {
      return javax.net.ssl.SSLContext.getDefault();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no default TLS context", e);
    }
  }

  public FetchedDataset fetch(String uriText) {
    URI uri;
    try {
      uri = new URI(uriText.trim());
    } catch (URISyntaxException e) {
      throw DatasetException.invalid(
          "dataset '" + uriText + "' is not a valid URI: " + e.getMessage());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    return switch (scheme) {
      case "file" -> fromFile(uriText, uri);
      case "http", "https" ->
          new FetchedDataset(uriText, lastSegment(uri.getPath()), get(uri, uriText));
      case "s3" -> fromS3(uriText, uri);
      case "hf" -> fromHub(uriText, uri);
      case "builtin" -> fromBuiltin(uriText, uri.getSchemeSpecificPart());
      default ->
          throw DatasetException.invalid(
              "dataset '"
                  + uriText
                  + "' has unsupported scheme '"
                  + scheme
                  + "' (file:, http(s)://, s3://, hf://datasets/..., builtin:)");
    };
  }

  private FetchedDataset fromFile(String uriText, URI uri) {
    Path path;
    try {
      path = Path.of(uri);
    } catch (IllegalArgumentException e) {
      throw DatasetException.invalid(
          "dataset '" + uriText + "' is not an absolute file URI like file:/data/faq.json");
    }
    if (config.allowedRoots().isEmpty()) {
      throw DatasetException.notAllowed(
          "dataset '"
              + uriText
              + "': file: datasets are disabled on this worker (no allowed roots); set"
              + " LORAFLOW_DATASET_ROOTS or upload the file to the object store and use s3://");
    }
    Path real;
    try {
      real = path.toRealPath();
    } catch (NoSuchFileException e) {
      throw DatasetException.unreachable(
          "dataset '" + uriText + "': file " + path + " does not exist on the CPU worker", e);
    } catch (IOException e) {
      throw DatasetException.unreachable(
          "dataset '" + uriText + "': cannot read " + path + ": " + e, e);
    }
    boolean allowed = false;
    for (Path root : config.allowedRoots()) {
      try {
        if (real.startsWith(root.toRealPath())) {
          allowed = true;
          break;
        }
      } catch (IOException missingRoot) {
        // a configured root that does not exist allows nothing
      }
    }
    if (!allowed) {
      throw DatasetException.notAllowed(
          "dataset '"
              + uriText
              + "' resolves to "
              + real
              + ", outside the allowed dataset roots "
              + config.allowedRoots()
              + "; move the file under one of them or add its directory to LORAFLOW_DATASET_ROOTS");
    }
    if (!Files.isRegularFile(real)) {
      throw DatasetException.invalid("dataset '" + uriText + "' is not a regular file: " + real);
    }
    try {
      long size = Files.size(real);
      if (size > config.maxBytes()) {
        throw tooLarge(uriText, size);
      }
      return new FetchedDataset(uriText, real.getFileName().toString(), Files.readAllBytes(real));
    } catch (IOException e) {
      throw DatasetException.unreachable(
          "dataset '" + uriText + "': cannot read " + real + ": " + e, e);
    }
  }

  private FetchedDataset fromS3(String uriText, URI uri) {
    String bucket = uri.getHost();
    String key = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
    if (bucket == null || key.isEmpty()) {
      throw DatasetException.invalid(
          "dataset '" + uriText + "' must look like s3://<bucket>/<key>");
    }
    if (blobs == null) {
      throw DatasetException.unreachable(
          "dataset '" + uriText + "': this CPU worker has no object store configured for s3://",
          null);
    }
    try (InputStream in = blobs.read(bucket, key)) {
      return new FetchedDataset(uriText, lastSegment(key), readCapped(in, uriText));
    } catch (NoSuchFileException | FileNotFoundException e) {
      throw DatasetException.unreachable(
          "dataset '" + uriText + "' does not exist in the object store (bucket " + bucket + ")",
          e);
    } catch (IOException e) {
      throw DatasetException.transientFailure(
          "dataset '" + uriText + "': object store read failed: " + e.getMessage(), e);
    }
  }

  /**
   * {@code hf://datasets/<org>/<name>[@rev][/<file>]} → {@code
   * <endpoint>/datasets/<org>/<name>/resolve/<rev>/<file>}.
   */
  private FetchedDataset fromHub(String uriText, URI uri) {
    // hf://datasets/<org>/<name>[@rev][/<file>]: authority "datasets", decoded path after it
    String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
    String[] parts = ("datasets/" + path).split("/", 4);
    if (!"datasets".equals(uri.getAuthority())
        || parts.length < 3
        || parts[1].isEmpty()
        || parts[2].isEmpty()) {
      throw DatasetException.invalid(
          "dataset '" + uriText + "' must look like hf://datasets/<org>/<name>[@rev][/<file>]");
    }
    String org = parts[1];
    String name = parts[2];
    String revision = "main";
    int at = name.indexOf('@');
    if (at >= 0) {
      revision = name.substring(at + 1);
      name = name.substring(0, at);
    }
    String repo = org + "/" + name;
    String file =
        parts.length == 4 && !parts[3].isEmpty() ? parts[3] : pickHubFile(uriText, repo, revision);
    URI url = hub("datasets/" + repo + "/resolve/" + enc(revision) + "/" + encPath(file));
    return new FetchedDataset(uriText, lastSegment(file), get(url, uriText));
  }

  /** Lists the repo's files (hub API) and picks the one data file, preferring "train". */
  private String pickHubFile(String uriText, String repo, String revision) {
    URI api = hub("api/datasets/" + repo + "/revision/" + enc(revision));
    JsonNode info;
    try {
      info = json.readTree(get(api, uriText));
    } catch (IOException e) {
      throw DatasetException.unreachable(
          "dataset '" + uriText + "': the hub's file listing " + api + " is not JSON", e);
    }
    List<String> files = new ArrayList<>();
    for (JsonNode sibling : info.path("siblings")) {
      String f = sibling.path("rfilename").asText("");
      String lower = f.toLowerCase(Locale.ROOT);
      if (DATA_EXTENSIONS.stream().anyMatch(lower::endsWith)) {
        files.add(f);
      }
    }
    List<String> train =
        files.stream().filter(f -> f.toLowerCase(Locale.ROOT).contains("train")).toList();
    List<String> pick = files.size() == 1 ? files : train;
    if (pick.size() == 1) {
      return pick.get(0);
    }
    throw DatasetException.invalid(
        "dataset '"
            + uriText
            + "': cannot pick one data file from "
            + (files.isEmpty() ? "(no .json/.jsonl/.csv files)" : files)
            + "; name it, e.g. hf://datasets/"
            + repo
            + "/"
            + (files.isEmpty() ? "train.jsonl" : files.get(0)));
  }

  private URI hub(String path) {
    String base = config.hfEndpoint().toString().replaceAll("/+$", "");
    return URI.create(base + "/" + path);
  }

  private FetchedDataset fromBuiltin(String uriText, String name) {
    if (!BUILTINS.contains(name)) {
      throw DatasetException.unreachable(
          "dataset '" + uriText + "': no builtin dataset '" + name + "'; builtins: " + BUILTINS,
          null);
    }
    String resource = "datasets/" + name + ".json";
    try (InputStream in = DatasetFetcher.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw DatasetException.unreachable(
            "dataset '" + uriText + "': resource " + resource + " missing from the activities jar",
            null);
      }
      return new FetchedDataset(uriText, name + ".json", in.readAllBytes());
    } catch (IOException e) {
      throw DatasetException.unreachable("dataset '" + uriText + "': " + e, e);
    }
  }

  private byte[] get(URI url, String uriText) {
    return get(url, uriText, 0);
  }

  private byte[] get(URI url, String uriText, int redirects) {
    List<InetAddress> vetted = addresses.vet(url, uriText, resolver);
    java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();
    if (config.hfToken() != null && url.toString().startsWith(config.hfEndpoint().toString())) {
      headers.put("Authorization", "Bearer " + config.hfToken());
    }
    PinnedHttp.Response response = null;
    ConnectException refused = null;
    for (InetAddress address : vetted) { // the next vetted address when one refuses
      try {
        response = http.get(url, address, headers, config.maxBytes());
        break;
      } catch (ConnectException e) {
        refused = e;
      } catch (PinnedHttp.TooLarge e) {
        throw tooLarge(uriText, e.seen);
      } catch (java.net.SocketTimeoutException e) {
        throw DatasetException.transientFailure(
            "dataset '" + uriText + "': " + url + " timed out (" + e.getMessage() + ")", e);
      } catch (javax.net.ssl.SSLHandshakeException e) {
        // an untrusted or mismatched certificate: retrying cannot fix it
        throw DatasetException.unreachable(
            "dataset '"
                + uriText
                + "': TLS with "
                + url.getHost()
                + " failed ("
                + e.getMessage()
                + "); the server's certificate must be trusted and name "
                + url.getHost(),
            e);
      } catch (IOException e) {
        throw DatasetException.transientFailure(
            "dataset '" + uriText + "': GET " + url + " failed: " + e.getMessage(), e);
      }
    }
    if (response == null) {
      // refused or reset: the server may be restarting; retried with backoff (CPU policy)
      throw DatasetException.transientFailure(
          "dataset '"
              + uriText
              + "': cannot connect to "
              + url.getHost()
              + (url.getPort() > 0 ? ":" + url.getPort() : "")
              + " ("
              + (refused != null && refused.getMessage() != null
                  ? refused.getMessage()
                  : "connection refused")
              + "); retrying, the server may be restarting",
          refused);
    }
    int status = response.status();
    if (status / 100 == 3 && response.header("Location").isPresent()) {
      if (redirects >= MAX_REDIRECTS) {
        throw DatasetException.unreachable(
            "dataset '" + uriText + "': more than " + MAX_REDIRECTS + " redirects", null);
      }
      URI next;
      try {
        next = url.resolve(response.header("Location").get());
      } catch (IllegalArgumentException e) {
        throw DatasetException.unreachable(
            "dataset '" + uriText + "': " + url + " redirected to an invalid URL", e);
      }
      if (!"http".equalsIgnoreCase(next.getScheme())
          && !"https".equalsIgnoreCase(next.getScheme())) {
        throw DatasetException.notAllowed(
            "dataset '" + uriText + "': redirected to a non-http(s) URL");
      }
      return get(next, uriText, redirects + 1);
    }
    if (status != 200) {
      String what = "dataset '" + uriText + "': GET " + url + " returned HTTP " + status;
      if (status == 429 || status >= 500) {
        throw DatasetException.transientFailure(what, null);
      }
      throw DatasetException.unreachable(
          what
              + ((status == 401 || status == 403)
                      && url.toString().startsWith(config.hfEndpoint().toString())
                  ? " (private? set HF_TOKEN)"
                  : ""),
          null);
    }
    return response.body();
  }

  private byte[] readCapped(InputStream in, String uriText) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[64 << 10];
    long total = 0;
    for (int n; (n = in.read(buf)) >= 0; ) {
      total += n;
      if (total > config.maxBytes()) {
        throw tooLarge(uriText, total);
      }
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  private DatasetException tooLarge(String uriText, long size) {
    return DatasetException.tooLarge(
        "dataset '"
            + uriText
            + "' is "
            + (size > 0 ? "at least " + size + " bytes" : "too large")
            + ", over the "
            + config.maxBytes()
            + "-byte limit; split it or raise LORAFLOW_DATASET_MAX_BYTES");
  }

  private static String lastSegment(String path) {
    if (path == null) {
      return "";
    }
    String p = path.replaceAll("/+$", "");
    return p.substring(p.lastIndexOf('/') + 1);
  }

  private static String enc(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String encPath(String path) {
    List<String> out = new ArrayList<>();
    for (String s : path.split("/")) {
      out.add(enc(s));
    }
    return String.join("/", out);
  }
}
