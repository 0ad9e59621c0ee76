package io.loraflow.activities.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.loraflow.workflows.FailureTypes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * http(s) dataset fetches connect to the address the policy vetted, not to a second lookup: a
 * scripted resolver that answers loopback once and an internal address afterwards (DNS rebinding)
 * still gets its single answer used, a redirect is looked up and vetted again, https checks the
 * certificate and sends SNI for the URL's host, and bodies with a Content-Length, chunked or until
 * close are read within the size bound and the deadline. Loopback is reachable only because each
 * test allow-lists it explicitly.
 */
class PinnedFetchTest {

  static final String HOST = "datasets.example"; // not in DNS: only the scripted resolver knows it
  static final String FAQ = "{\"questions\":[{\"question\":\"q\",\"answer\":\"a\"}]}";
  static final AddressPolicy LOOPBACK_ALLOWED = AddressPolicy.parse("127.0.0.1/32");

  @TempDir Path tmp;
  private HttpServer server;
  private int port;
  private final Map<String, String> hostHeaders = new ConcurrentHashMap<>();

  /** Answers per host, in order; the last answer repeats. Counts lookups. */
  static final class ScriptedResolver implements HostResolver {
    final Map<String, Deque<String>> answers = new ConcurrentHashMap<>();
    final AtomicInteger lookups = new AtomicInteger();

    ScriptedResolver answer(String host, String... addresses) {
      answers.put(host, new ArrayDeque<>(List.of(addresses)));
      return this;
    }

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
      lookups.incrementAndGet();
      Deque<String> queue = answers.get(host);
      if (queue == null) {
        throw new UnknownHostException(host);
      }
      String next = queue.size() > 1 ? queue.poll() : queue.peek();
      return new InetAddress[] {InetAddress.getByName(next)}; // a literal: no lookup
    }
  }

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    handlers(server);
    server.start();
    port = server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private void handlers(HttpServer s) {
    s.createContext(
        "/plain/faq.json",
        ex -> {
          hostHeaders.put("plain", ex.getRequestHeaders().getFirst("Host"));
          respond(ex, FAQ.getBytes(StandardCharsets.UTF_8), false);
        });
    s.createContext(
        "/chunked.jsonl",
        ex -> {
          StringBuilder body = new StringBuilder();
          for (int i = 0; i < 300; i++) {
            body.append("{\"question\":\"q").append(i).append("\",\"answer\":\"a\"}\n");
          }
          respond(ex, body.toString().getBytes(StandardCharsets.UTF_8), true);
        });
    s.createContext(
        "/hop",
        ex -> {
          ex.getResponseHeaders()
              .add("Location", "http://" + HOST + ":" + port + "/plain/faq.json");
          ex.sendResponseHeaders(302, -1);
          ex.close();
        });
  }

  /** Fixed length, or chunked in pieces of 1000 bytes. */
  private static void respond(HttpExchange ex, byte[] body, boolean chunked) throws IOException {
    ex.sendResponseHeaders(200, chunked ? 0 : body.length);
    try (OutputStream out = ex.getResponseBody()) {
      for (int off = 0; off < body.length; off += 1000) {
        out.write(body, off, Math.min(1000, body.length - off));
        out.flush();
      }
    }
  }

  private static DatasetConfig config() {
    return DatasetConfig.defaults(List.of());
  }

  private static DatasetFetcher fetcher(
      DatasetConfig config, AddressPolicy policy, HostResolver resolver, SSLContext tls) {
    return new DatasetFetcher(config, null, policy, resolver, tls);
  }

  private static DatasetFetcher fetcher(AddressPolicy policy, HostResolver resolver)
      throws Exception {
    return fetcher(config(), policy, resolver, SSLContext.getDefault());
  }

  private static DatasetException fails(DatasetFetcher f, String uri, String type, String part) {
    DatasetException e = assertThrows(DatasetException.class, () -> f.fetch(uri));
    assertEquals(type, e.type(), e.getMessage());
    assertTrue(e.getMessage().contains(part), e.getMessage());
    return e;
  }

  @Test
  void theConnectionGoesToTheVettedAddressNotToASecondLookup() throws Exception {
    // a rebinding DNS server: loopback (allow-listed) first, the metadata address afterwards
    ScriptedResolver dns = new ScriptedResolver().answer(HOST, "127.0.0.1", "169.254.169.254");
    String url = "http://" + HOST + ":" + port + "/plain/faq.json";
    byte[] bytes = fetcher(LOOPBACK_ALLOWED, dns).fetch(url).bytes();
    assertEquals(FAQ, new String(bytes, StandardCharsets.UTF_8));
    assertEquals(1, dns.lookups.get(), "one lookup: the vetted answer is the one connected to");
    assertEquals(HOST + ":" + port, hostHeaders.get("plain"), "the server is named by the URL");
    // the second answer is what a second lookup would have connected to: refused when vetted
    fails(
        fetcher(LOOPBACK_ALLOWED, dns),
        url,
        FailureTypes.DATASET_NOT_ALLOWED,
        "resolves to 169.254.169.254 (link-local, where cloud metadata services live)");
    // and loopback itself only passes because of the explicit allow-list
    fails(
        fetcher(AddressPolicy.publicOnly(), new ScriptedResolver().answer(HOST, "127.0.0.1")),
        url,
        FailureTypes.DATASET_NOT_ALLOWED,
        "resolves to 127.0.0.1 (loopback)");
  }

  @Test
  void eachRedirectIsLookedUpAndVettedAgain() throws Exception {
    ScriptedResolver dns = new ScriptedResolver().answer(HOST, "127.0.0.1", "10.0.0.7");
    fails(
        fetcher(LOOPBACK_ALLOWED, dns),
        "http://" + HOST + ":" + port + "/hop",
        FailureTypes.DATASET_NOT_ALLOWED,
        "host " + HOST + " resolves to 10.0.0.7 (private network)");
    assertEquals(2, dns.lookups.get());
    ScriptedResolver stable = new ScriptedResolver().answer(HOST, "127.0.0.1");
    assertEquals(
        FAQ,
        new String(
            fetcher(LOOPBACK_ALLOWED, stable).fetch("http://" + HOST + ":" + port + "/hop").bytes(),
            StandardCharsets.UTF_8));
    assertEquals(2, stable.lookups.get());
  }

  @Test
  void chunkedAndCountedBodiesAreReadWithinTheSizeBoundAndTheDeadline() throws Exception {
    ScriptedResolver dns = new ScriptedResolver().answer(HOST, "127.0.0.1");
    String chunked = "http://" + HOST + ":" + port + "/chunked.jsonl";
    byte[] body = fetcher(LOOPBACK_ALLOWED, dns).fetch(chunked).bytes();
    assertEquals(300, new String(body, StandardCharsets.UTF_8).split("\n").length);
    DatasetConfig small = config().withLimits(5000, 100);
    fails(
        fetcher(small, LOOPBACK_ALLOWED, dns, SSLContext.getDefault()),
        chunked,
        FailureTypes.DATASET_TOO_LARGE,
        "over the 5000-byte limit");

    // raw servers: a body shorter than its Content-Length, and one that never answers
    try (ServerSocket raw = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
      Thread t =
          new Thread(
              () -> {
                for (int i = 0; i < 2; i++) {
                  try (Socket c = raw.accept()) {
                    drainHeaders(c.getInputStream());
                    if (i == 0) {
                      c.getOutputStream()
                          .write(
                              "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"
                                  .getBytes(StandardCharsets.ISO_8859_1));
                    } else {
                      Thread.sleep(1500); // past the 400 ms request timeout below
                    }
                  } catch (IOException | InterruptedException e) {
                    return;
                  }
                }
              });
      t.setDaemon(true);
      t.start();
      String url = "http://" + HOST + ":" + raw.getLocalPort() + "/x.jsonl";
      DatasetException cut =
          fails(
              fetcher(LOOPBACK_ALLOWED, dns),
              url,
              DatasetException.FETCH_FAILED,
              "the body ended after 10 of 100 bytes");
      assertTrue(cut.retryable());
      DatasetConfig impatient =
          new DatasetConfig(
              List.of(),
              1 << 20,
              100,
              5,
              Duration.ofSeconds(1),
              Duration.ofMillis(400),
              java.net.URI.create("https://huggingface.co"),
              null);
      DatasetException late =
          fails(
              fetcher(impatient, LOOPBACK_ALLOWED, dns, SSLContext.getDefault()),
              url,
              DatasetException.FETCH_FAILED,
              "timed out");
      assertTrue(late.retryable());
    }
  }

  @Test
  void httpsChecksTheCertificateAndSendsSniForTheUrlsHostWhileConnectingToTheAddress()
      throws Exception {
    char[] password = "test-only".toCharArray();
    Path keystore = tmp.resolve("server.p12");
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "ds",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=" + HOST,
                "-ext",
                "san=dns:" + HOST,
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                keystore.toString(),
                "-storepass",
                new String(password))
            .redirectErrorStream(true)
            .start();
    String keytoolOut = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, keytool.waitFor(), keytoolOut);
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      keys.load(in, password);
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, password);
    SSLContext serverTls = SSLContext.getInstance("TLS");
    serverTls.init(kmf.getKeyManagers(), null, null);
    // the client trusts exactly this self-signed certificate
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ds", keys.getCertificate("ds"));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext clientTls = SSLContext.getInstance("TLS");
    clientTls.init(null, tmf.getTrustManagers(), null);

    Map<String, String> sni = new ConcurrentHashMap<>();
    HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    https.setHttpsConfigurator(
        new HttpsConfigurator(serverTls) {
          @Override
          public void configure(HttpsParameters params) {
            SSLParameters p = serverTls.getDefaultSSLParameters();
            p.setSNIMatchers(
                List.of(
                    new SNIMatcher(0) {
                      @Override
                      public boolean matches(SNIServerName name) {
                        sni.put("name", ((SNIHostName) name).getAsciiName());
                        return true;
                      }
                    }));
            params.setSSLParameters(p);
          }
        });
    handlers(https);
    https.start();
    try {
      int httpsPort = https.getAddress().getPort();
      ScriptedResolver dns =
          new ScriptedResolver()
              .answer(HOST, "127.0.0.1", "169.254.169.254")
              .answer("other.example", "127.0.0.1");
      DatasetFetcher trusting = fetcher(config(), LOOPBACK_ALLOWED, dns, clientTls);
      String url = "https://" + HOST + ":" + httpsPort + "/plain/faq.json";
      assertEquals(FAQ, new String(trusting.fetch(url).bytes(), StandardCharsets.UTF_8));
      assertEquals(HOST, sni.get("name"), "SNI names the URL's host, not the address");
      assertEquals(1, dns.lookups.get());
      // the same server under another name: its certificate does not name that host
      DatasetException wrongName =
          fails(
              trusting,
              "https://other.example:" + httpsPort + "/plain/faq.json",
              FailureTypes.DATASET_UNREACHABLE,
              "the server's certificate must be trusted and name other.example");
      assertFalse(wrongName.retryable());
      // the JVM's default trust store does not know the self-signed certificate
      fails(
          fetcher(
              config(),
              LOOPBACK_ALLOWED,
              new ScriptedResolver().answer(HOST, "127.0.0.1"),
              SSLContext.getDefault()),
          url,
          FailureTypes.DATASET_UNREACHABLE,
          "TLS with " + HOST + " failed");
    } finally {
      https.stop(0);
    }
  }

  private static void drainHeaders(InputStream in) throws IOException {
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    for (int b; matched < 4 && (b = in.read()) >= 0; ) {
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
  }
}
