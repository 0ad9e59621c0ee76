package io.loraflow.activities.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.loraflow.workflows.FailureTypes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every source against real local servers and files. */
class DatasetFetcherTest {

  @TempDir Path tmp;
  private HttpServer server;
  private URI base;
  private final Map<String, String> authByPath = new ConcurrentHashMap<>();

  private static final String JSONL = "{\"question\":\"q\",\"answer\":\"a\"}\n";

  @BeforeEach
  void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    // the Hugging Face hub layout: resolve URLs and the revision API
    serve("/datasets/acme/faq/resolve/main/train.jsonl", 200, JSONL);
    serve("/datasets/acme/faq/resolve/v2/data%20set.csv", 200, "question,answer\nq,a\n");
    serve(
        "/api/datasets/acme/faq/revision/main",
        200,
        "{\"id\":\"acme/faq\",\"siblings\":[{\"rfilename\":\".gitattributes\"},"
            + "{\"rfilename\":\"README.md\"},{\"rfilename\":\"train.jsonl\"},"
            + "{\"rfilename\":\"test.jsonl\"}]}");
    serve(
        "/api/datasets/acme/many/revision/main",
        200,
        "{\"siblings\":[{\"rfilename\":\"a.jsonl\"},{\"rfilename\":\"b.jsonl\"}]}");
    serve("/plain/faq.json", 200, "{\"questions\":[{\"question\":\"q\",\"answer\":\"a\"}]}");
    serve("/big.jsonl", 200, "x".repeat(5000));
    serve("/broken", 500, "boom");
    serve("/healthcheck", 200, "{\"deadlocks\":{\"healthy\":true},\"minio\":{\"healthy\":true}}");
    server.createContext(
        "/to-loopback",
        ex -> {
          ex.getResponseHeaders()
              .add(
                  "Location",
                  "http://127.0.0.1:" + server.getAddress().getPort() + "/plain/faq.json");
          ex.sendResponseHeaders(302, -1);
          ex.close();
        });
    server.createContext(
        "/slow",
        ex -> {
          try {
            Thread.sleep(2000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          respond(ex, 200, "late");
        });
    server.start();
    base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  /** Serves {@code path} (raw, percent-encoded) exactly; contexts match on the decoded path. */
  private void serve(String path, int status, String body) {
    server.createContext(
        URI.create("http://x" + path).getPath(),
        ex -> {
          if (!ex.getRequestURI().getRawPath().equals(path)) {
            respond(ex, 404, "not found");
            return;
          }
          String auth = ex.getRequestHeaders().getFirst("Authorization");
          if (auth != null) {
            authByPath.put(path, auth);
          }
          respond(ex, status, body);
        });
  }

  private static void respond(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  private DatasetFetcher fetcher(DatasetConfig config) {
    BlobReader blobs =
        (bucket, key) -> {
          if (bucket.equals("data") && key.equals("sets/faq.jsonl")) {
            return new ByteArrayInputStream(JSONL.getBytes(StandardCharsets.UTF_8));
          }
          throw new NoSuchFileException("s3://" + bucket + "/" + key);
        };
    // the test server is on loopback: allow-listed, as an operator would an internal mirror
    return new DatasetFetcher(config, blobs, AddressPolicy.parse("127.0.0.1"));
  }

  private DatasetFetcher fetcher() {
    return fetcher(DatasetConfig.defaults(List.of(tmp.resolve("allowed"))).withHfEndpoint(base));
  }

  private static DatasetException fails(
      DatasetFetcher f, String uri, String type, String... parts) {
    var e = assertThrows(DatasetException.class, () -> f.fetch(uri));
    assertEquals(type, e.type(), e.getMessage());
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }
    return e;
  }

  @Test
  void filesOnlyUnderTheAllowedRoots() throws IOException {
    Path allowed = Files.createDirectories(tmp.resolve("allowed/sub"));
    Path inside = Files.writeString(allowed.resolve("faq.jsonl"), JSONL);
    Path outside = Files.writeString(tmp.resolve("secret.jsonl"), JSONL);
    Files.createSymbolicLink(allowed.resolve("link.jsonl"), outside);
    DatasetFetcher f = fetcher();

    FetchedDataset ok = f.fetch(inside.toUri().toString());
    assertEquals("faq.jsonl", ok.name());
    assertArrayEquals(JSONL.getBytes(StandardCharsets.UTF_8), ok.bytes());

    fails(
        f,
        outside.toUri().toString(),
        FailureTypes.DATASET_NOT_ALLOWED,
        "outside the allowed dataset roots");
    fails(
        f,
        "file:" + allowed + "/../../secret.jsonl",
        FailureTypes.DATASET_NOT_ALLOWED,
        "resolves to " + outside.toRealPath());
    fails(
        f,
        allowed.resolve("link.jsonl").toUri().toString(),
        FailureTypes.DATASET_NOT_ALLOWED,
        "outside");
    fails(f, "file:/etc/passwd", FailureTypes.DATASET_NOT_ALLOWED, "LORAFLOW_DATASET_ROOTS");
    fails(
        f, "file:" + allowed + "/missing.json", FailureTypes.DATASET_UNREACHABLE, "does not exist");
    fails(
        new DatasetFetcher(DatasetConfig.defaults(List.of()), null),
        inside.toUri().toString(),
        FailureTypes.DATASET_NOT_ALLOWED,
        "file: datasets are disabled");
  }

  @Test
  void httpFetchesWithStatusSizeAndTimeoutHandling() throws IOException {
    DatasetFetcher f = fetcher();
    assertEquals("faq.json", f.fetch(base + "/plain/faq.json").name());

    fails(f, base + "/nothing-here.json", FailureTypes.DATASET_UNREACHABLE, "returned HTTP 404");
    var e = fails(f, base + "/broken", DatasetException.FETCH_FAILED, "returned HTTP 500");
    assertTrue(e.retryable());

    var small = DatasetConfig.defaults(List.of()).withHfEndpoint(base).withLimits(1000, 100);
    fails(
        fetcher(small),
        base + "/big.jsonl",
        FailureTypes.DATASET_TOO_LARGE,
        "over the 1000-byte limit");

    var impatient =
        new DatasetConfig(
            List.of(), 1 << 20, 100, 5, Duration.ofSeconds(1), Duration.ofMillis(300), base, null);
    var timeout =
        fails(fetcher(impatient), base + "/slow", DatasetException.FETCH_FAILED, "timed out");
    assertTrue(timeout.retryable());

    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    var refused =
        fails(
            f,
            "http://127.0.0.1:" + closedPort + "/faq.json",
            FailureTypes.DATASET_UNREACHABLE,
            "cannot connect to 127.0.0.1:" + closedPort);
    assertFalse(refused.retryable());
  }

  @Test
  void internalAddressesAreRefusedUnlessAllowListedAndSoAreRedirectsToThem() {
    DatasetFetcher strict =
        new DatasetFetcher(DatasetConfig.defaults(List.of()), null, AddressPolicy.publicOnly());
    int port = server.getAddress().getPort();
    fails(
        strict,
        base + "/plain/faq.json",
        FailureTypes.DATASET_NOT_ALLOWED,
        "resolves to 127.0.0.1 (loopback)");
    fails(
        strict,
        "http://localhost:" + port + "/plain/faq.json",
        FailureTypes.DATASET_NOT_ALLOWED,
        "(loopback)");
    fails(
        strict,
        "http://169.254.169.254/latest/meta-data/",
        FailureTypes.DATASET_NOT_ALLOWED,
        "link-local, where cloud metadata services live");
    fails(strict, "http://10.1.2.3/faq.json", FailureTypes.DATASET_NOT_ALLOWED, "private network");
    fails(
        strict,
        "http://[::ffff:127.0.0.1]:" + port + "/plain/faq.json",
        FailureTypes.DATASET_NOT_ALLOWED,
        "(loopback)");
    fails(strict, "http://[::1]:" + port + "/x", FailureTypes.DATASET_NOT_ALLOWED, "(loopback)");
    fails(strict, "http://0.0.0.0:" + port + "/x", FailureTypes.DATASET_NOT_ALLOWED, "unspecified");
    fails(strict, "https://100.64.0.1/x", FailureTypes.DATASET_NOT_ALLOWED, "carrier-grade NAT");

    // allow-listed by name: that host works, a redirect from it to a loopback literal does not
    DatasetFetcher byName =
        new DatasetFetcher(
            DatasetConfig.defaults(List.of()), null, AddressPolicy.parse("localhost"));
    assertEquals("faq.json", byName.fetch("http://localhost:" + port + "/plain/faq.json").name());
    fails(
        byName,
        "http://localhost:" + port + "/to-loopback",
        FailureTypes.DATASET_NOT_ALLOWED,
        "resolves to 127.0.0.1 (loopback)");
    // allow-listed by network
    DatasetFetcher byNetwork =
        new DatasetFetcher(
            DatasetConfig.defaults(List.of()), null, AddressPolicy.parse("127.0.0.0/8"));
    assertTrue(
        new String(byNetwork.fetch(base + "/to-loopback").bytes(), StandardCharsets.UTF_8)
            .contains("\"questions\""));
  }

  @Test
  void errorsAboutAFetchedBodyNeverShowItsContent() {
    var preparer =
        new DatasetPreparer(
            DatasetConfig.defaults(List.of()), null, AddressPolicy.parse("127.0.0.1"));
    DatasetException e =
        assertThrows(DatasetException.class, () -> preparer.prepare(base + "/healthcheck", "auto"));
    assertTrue(e.getMessage().contains("no \"questions\" array"), e.getMessage());
    assertFalse(e.getMessage().contains("deadlocks"), e.getMessage());
    assertFalse(e.getMessage().contains("minio"), e.getMessage());
  }

  @Test
  void huggingFaceResolveUrlsOnAServerWithTheHubLayout() {
    var withToken =
        new DatasetConfig(
            List.of(),
            1 << 20,
            1000,
            5,
            Duration.ofSeconds(2),
            Duration.ofSeconds(5),
            base,
            "hf_secret");
    DatasetFetcher f = fetcher(withToken);
    FetchedDataset explicit = f.fetch("hf://datasets/acme/faq/train.jsonl");
    assertEquals(JSONL, new String(explicit.bytes(), StandardCharsets.UTF_8));
    assertEquals("Bearer hf_secret", authByPath.get("/datasets/acme/faq/resolve/main/train.jsonl"));

    // no file named: the one "train" data file of the listing
    assertEquals("train.jsonl", f.fetch("hf://datasets/acme/faq").name());
    // a revision and a name that needs escaping
    assertEquals("data set.csv", f.fetch("hf://datasets/acme/faq@v2/data%20set.csv").name());

    fails(
        f,
        "hf://datasets/acme/many",
        FailureTypes.INVALID_DATASET,
        "cannot pick one data file from [a.jsonl, b.jsonl]");
    fails(
        f,
        "hf://datasets/acme/faq/nope.jsonl",
        FailureTypes.DATASET_UNREACHABLE,
        "returned HTTP 404");
    fails(f, "hf://datasets/acme", FailureTypes.INVALID_DATASET, "hf://datasets/<org>/<name>");
  }

  @Test
  void s3ThroughTheBlobReader() {
    DatasetFetcher f = fetcher();
    assertEquals("faq.jsonl", f.fetch("s3://data/sets/faq.jsonl").name());
    fails(
        f,
        "s3://data/sets/missing.jsonl",
        FailureTypes.DATASET_UNREACHABLE,
        "does not exist in the object store");
    fails(
        new DatasetFetcher(DatasetConfig.defaults(List.of()), null),
        "s3://data/sets/faq.jsonl",
        FailureTypes.DATASET_UNREACHABLE,
        "no object store configured");
  }

  @Test
  void builtinsAndUnknownSchemes() {
    DatasetFetcher f = fetcher();
    assertTrue(f.fetch("builtin:ecommerce-faq").bytes().length > 10_000);
    fails(f, "builtin:nope", FailureTypes.DATASET_UNREACHABLE, "builtins: [ecommerce-faq]");
    fails(f, "ftp://host/x.json", FailureTypes.INVALID_DATASET, "unsupported scheme 'ftp'");
  }
}
