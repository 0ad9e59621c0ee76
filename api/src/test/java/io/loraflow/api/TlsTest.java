package io.loraflow.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.ResourceHelpers;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.loraflow.api.core.TlsSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The API over https: a self-signed keystore made with the JDK's keytool in a temp dir, the server
 * started from a configuration whose connectors say http plus a {@code tls} section, called with a
 * client that trusts exactly that certificate (hostname verified against its SAN 127.0.0.1). The
 * keystore password appears in no log line.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class TlsTest {

  private static final String PASSWORD = "tls-pass-7f3a91c2d4";
  private static final String TOKEN = "tls-token-0123456789abcdef";

  /** Everything the JVM prints while the server runs, to look for the password. */
  private static final ByteArrayOutputStream LOG = new ByteArrayOutputStream();

  private static final PrintStream STDOUT = System.out;
  private static final Path KEYSTORE = keystore();

  static {
    System.setOut(new PrintStream(new TeeStream(STDOUT, LOG), true, StandardCharsets.UTF_8));
  }

  static final DropwizardAppExtension<LoraflowConfiguration> APP =
      new DropwizardAppExtension<>(
          LoraflowApplication.class,
          ResourceHelpers.resourceFilePath("tls-test.yml"),
          ConfigOverride.config("tls.keyStorePath", KEYSTORE.toString()),
          ConfigOverride.config("tls.keyStorePassword", PASSWORD));

  /** keytool -genkeypair: EC P-256, CN=localhost, SAN ip:127.0.0.1 and dns:localhost, PKCS12. */
  static Path keystore() {
    try {
      Path dir = Files.createTempDirectory("loraflow-tls-test-");
      Path ks = dir.resolve("api.p12");
      Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
      Process p =
          new ProcessBuilder(
                  keytool.toString(),
                  "-genkeypair",
                  "-alias",
                  "loraflow",
                  "-keyalg",
                  "EC",
                  "-groupname",
                  "secp256r1",
                  "-dname",
                  "CN=localhost",
                  "-ext",
                  "san=ip:127.0.0.1,dns:localhost",
                  "-validity",
                  "2",
                  "-storetype",
                  "PKCS12",
                  "-keystore",
                  ks.toString(),
                  "-storepass",
                  PASSWORD,
                  "-keypass",
                  PASSWORD)
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IllegalStateException("keytool failed: " + out);
      }
      return ks;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A client that trusts only the test keystore's certificate (and verifies the host name). */
  static HttpClient trustingClient() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(KEYSTORE)) {
      trust.load(in, PASSWORD.toCharArray());
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
  }

  static HttpRequest get(String url) {
    return HttpRequest.newBuilder(URI.create(url))
        .header("Authorization", "Bearer " + TOKEN)
        .timeout(Duration.ofSeconds(10))
        .build();
  }

  @AfterAll
  static void restoreStdout() {
    System.setOut(STDOUT);
  }

  @Test
  void theApiAndTheAdminPortAnswerOverHttpsWithTheConfiguredCertificate() throws Exception {
    HttpClient client = trustingClient();
    String api = "https://127.0.0.1:" + APP.getLocalPort();
    HttpResponse<String> doc =
        client.send(get(api + "/v1/openapi.json"), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, doc.statusCode(), doc.body());
    assertTrue(doc.body().contains("\"openapi\""), doc.body().substring(0, 200));
    assertEquals("TLSv1.3", doc.sslSession().orElseThrow().getProtocol());

    HttpResponse<String> admin =
        client.send(
            get("https://127.0.0.1:" + APP.getAdminPort() + "/ping"),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, admin.statusCode(), admin.body());
    assertTrue(admin.sslSession().isPresent());
  }

  @Test
  void aClientThatDoesNotTrustTheCertificateAndPlainHttpAreRefused() throws Exception {
    HttpClient strangers = HttpClient.newHttpClient(); // the JVM's default trust store
    assertThrows(
        SSLHandshakeException.class,
        () ->
            strangers.send(
                get("https://127.0.0.1:" + APP.getLocalPort() + "/v1/openapi.json"),
                HttpResponse.BodyHandlers.ofString()));
    // plain http on the https port: Jetty answers 400 (or closes) and never serves the document
    try {
      HttpResponse<String> plain =
          HttpClient.newHttpClient()
              .send(
                  get("http://127.0.0.1:" + APP.getLocalPort() + "/v1/openapi.json"),
                  HttpResponse.BodyHandlers.ofString());
      assertFalse(plain.statusCode() == 200, "plain http got " + plain.body());
    } catch (IOException closed) {
      // closed by the server: refused too
    }
  }

  @Test
  void thePasswordIsInNoLogLineAndInNoSettingsString() {
    assertFalse(APP.getConfiguration().getTls().toString().contains(PASSWORD));
    String log = LOG.toString(StandardCharsets.UTF_8);
    assertTrue(log.contains("Started"), "the server's startup is in the captured log:\n" + log);
    assertFalse(log.contains(PASSWORD), log);
  }

  @Test
  void aWrongPasswordOrAMissingFileIsOneClearLineWithoutThePassword() {
    for (var bad :
        List.of(
            List.of(
                new TlsSettings(KEYSTORE.toString(), "wrong-" + PASSWORD, "PKCS12"),
                "cannot open PKCS12 keystore " + KEYSTORE + ": wrong password"),
            List.of(
                new TlsSettings(KEYSTORE + ".missing", PASSWORD, null),
                "is not a readable file (LORAFLOW_API_KEYSTORE)"))) {
      TlsSettings tls = (TlsSettings) bad.get(0);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, tls::requireUsable);
      assertTrue(e.getMessage().contains((String) bad.get(1)), e.getMessage());
      assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());
      assertFalse(tls.toString().contains(PASSWORD), tls.toString());
    }
    assertFalse(TlsSettings.none().enabled());
    TlsSettings.none().requireUsable(); // plain http: nothing to check
  }

  /** Writes to two streams. */
  static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream a;
    private final java.io.OutputStream b;

    TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int x) throws IOException {
      a.write(x);
      b.write(x);
    }

    @Override
    public void write(byte[] buf, int off, int len) throws IOException {
      a.write(buf, off, len);
      b.write(buf, off, len);
    }
  }
}
