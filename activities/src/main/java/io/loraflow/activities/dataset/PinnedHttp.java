package io.loraflow.activities.dataset;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One HTTP/1.1 GET to an address chosen by the caller: the socket connects to {@code address}
 * (already vetted by {@link AddressPolicy}), never to a fresh lookup of the URL's host, so a DNS
 * answer that changes between the check and the connection (DNS rebinding) cannot redirect it. The
 * URL's host still names the server everywhere else: the {@code Host} header, TLS SNI, and the
 * certificate's host-name check ({@code HTTPS} endpoint identification against the URL's host, not
 * the address).
 *
 * <p>Bounded: connect timeout, a deadline for the whole exchange (each read waits at most what is
 * left of it), status and header lines of at most {@value #MAX_LINE} bytes, at most {@value
 * #MAX_HEADERS} headers, and a body of at most {@code maxBody} bytes whether it comes with a {@code
 * Content-Length}, chunked, or until the server closes. One request per connection ({@code
 * Connection: close}), no compression ({@code Accept-Encoding: identity}), no redirects (the caller
 * follows them, vetting each target).
 */
final class PinnedHttp {

  static final int MAX_LINE = 8 << 10;
  static final int MAX_HEADERS = 100;

  private final SSLContext tls;
  private final Duration connectTimeout;
  private final Duration requestTimeout;

  /**
   * @param tls trust for https (the JVM's default trust store in production)
   * @param connectTimeout longest TCP connect (and TLS handshake start)
   * @param requestTimeout deadline for the whole exchange after the connect
   */
  PinnedHttp(SSLContext tls, Duration connectTimeout, Duration requestTimeout) {
    this.tls = tls;
    this.connectTimeout = connectTimeout;
    this.requestTimeout = requestTimeout;
  }

  /**
   * A response: its status, its headers (names lowercase, first value of each), and its body when
   * the status is 200 (other statuses are not read past the headers).
   */
  record Response(int status, Map<String, String> headers, byte[] body) {
    Optional<String> header(String name) {
      return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
    }
  }

  /** The body is over the caller's limit; {@code seen} is its declared or read size so far. */
  static final class TooLarge extends IOException {
    final long seen;

    TooLarge(long seen) {
      super("body over the limit (" + seen + " bytes or more)");
      this.seen = seen;
    }
  }

  /** The exchange ran past its deadline. */
  static final class Timeout extends SocketTimeoutException {
    Timeout(String message) {
      super(message);
    }
  }

  /**
   * GET {@code url} from {@code address}.
   *
   * @param headers extra request headers (e.g. Authorization), written as given
   * @param maxBody most body bytes accepted
   */
  Response get(URI url, InetAddress address, Map<String, String> headers, long maxBody)
      throws IOException {
    boolean https = "https".equalsIgnoreCase(url.getScheme());
    String host = hostOf(url);
    int port = url.getPort() > 0 ? url.getPort() : https ? 443 : 80;
    long deadline = System.nanoTime() + requestTimeout.toNanos();
    Socket raw = new Socket();
    try {
      raw.connect(new InetSocketAddress(address, port), timeoutMillis(connectTimeout));
      raw.setSoTimeout(remainingMillis(deadline)); // bounds the TLS handshake's reads too
      if (!https) {
        return exchange(raw, url, host, port, false, headers, maxBody, deadline);
      }
      // layered over the connected socket: `host` is the peer name for SNI and the certificate
      try (SSLSocket tlsSocket =
          (SSLSocket) tls.getSocketFactory().createSocket(raw, host, port, true)) {
        SSLParameters params = tlsSocket.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name `host`
        if (!isLiteral(host)) {
          params.setServerNames(List.of(new SNIHostName(host)));
        }
        tlsSocket.setSSLParameters(params);
        tlsSocket.startHandshake();
        return exchange(tlsSocket, url, host, port, true, headers, maxBody, deadline);
      }
    } finally {
      raw.close();
    }
  }

  private Response exchange(
      Socket socket,
      URI url,
      String host,
      int port,
      boolean https,
      Map<String, String> headers,
      long maxBody,
      long deadline)
      throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(request(url, host, port, https, headers).getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    Reader in = new Reader(socket, new BufferedInputStream(socket.getInputStream()), deadline);
    int status;
    Map<String, String> responseHeaders;
    do { // skip interim 1xx responses
      status = statusOf(in.line());
      responseHeaders = headers(in);
    } while (status / 100 == 1);
    if (status != 200) {
      return new Response(status, responseHeaders, new byte[0]);
    }
    return new Response(status, responseHeaders, body(in, responseHeaders, maxBody));
  }

  static String request(URI url, String host, int port, boolean https, Map<String, String> extra) {
    String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
    if (url.getRawQuery() != null) {
      path += "?" + url.getRawQuery();
    }
    boolean defaultPort = port == (https ? 443 : 80);
    String hostHeader = (host.contains(":") ? "[" + host + "]" : host);
    StringBuilder r = new StringBuilder();
    r.append("GET ").append(path).append(" HTTP/1.1\r\n");
    r.append("Host: ").append(hostHeader).append(defaultPort ? "" : ":" + port).append("\r\n");
    r.append("User-Agent: loraflow-dataset-fetch\r\n");
    r.append("Accept: */*\r\n");
    r.append("Accept-Encoding: identity\r\n");
    r.append("Connection: close\r\n");
    extra.forEach((k, v) -> r.append(k).append(": ").append(v).append("\r\n"));
    return r.append("\r\n").toString();
  }

  private static int statusOf(String line) throws IOException {
    // HTTP/1.1 200 OK
    String[] parts = line.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !parts[1].matches("[0-9]{3}")) {
      throw new IOException("not an HTTP/1.x status line from the server");
    }
    return Integer.parseInt(parts[1]);
  }

  private static Map<String, String> headers(Reader in) throws IOException {
    Map<String, String> headers = new LinkedHashMap<>();
    for (int n = 0; ; n++) {
      String line = in.line();
      if (line.isEmpty()) {
        return headers;
      }
      if (n >= MAX_HEADERS) {
        throw new IOException("more than " + MAX_HEADERS + " response headers");
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new IOException("malformed response header line");
      }
      headers.putIfAbsent(
          line.substring(0, colon).strip().toLowerCase(Locale.ROOT),
          line.substring(colon + 1).strip());
    }
  }

  private static byte[] body(Reader in, Map<String, String> headers, long maxBody)
      throws IOException {
    String transfer = headers.getOrDefault("transfer-encoding", "").toLowerCase(Locale.ROOT);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (transfer.endsWith("chunked")) {
      for (; ; ) {
        String sizeLine = in.line();
        int semicolon = sizeLine.indexOf(';'); // chunk extensions are ignored
        String hex = (semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).strip();
        if (!hex.matches("[0-9a-fA-F]{1,15}")) {
          throw new IOException("malformed chunk size in a chunked response");
        }
        long size = Long.parseLong(hex, 16);
        if (size == 0) {
          while (!in.line().isEmpty()) {
            // trailers: ignored
          }
          return out.toByteArray();
        }
        if (out.size() + size > maxBody) {
          throw new TooLarge(out.size() + size);
        }
        in.copy(out, size);
        if (!in.line().isEmpty()) {
          throw new IOException("chunk not followed by CRLF in a chunked response");
        }
      }
    }
    if (!transfer.isEmpty() && !transfer.equals("identity")) {
      throw new IOException("unsupported Transfer-Encoding '" + transfer + "'");
    }
    String lengthText = headers.get("content-length");
    if (lengthText != null) {
      if (!lengthText.matches("[0-9]{1,18}")) {
        throw new IOException("malformed Content-Length");
      }
      long length = Long.parseLong(lengthText);
      if (length > maxBody) {
        throw new TooLarge(length);
      }
      in.copy(out, length);
      return out.toByteArray();
    }
    in.copyToEnd(out, maxBody); // no length: the body ends when the server closes
    return out.toByteArray();
  }

  /** Reads lines and counted bytes, each read bounded by the exchange's deadline. */
  private static final class Reader {
    private final Socket socket;
    private final InputStream in;
    private final long deadline;

    Reader(Socket socket, InputStream in, long deadline) {
      this.socket = socket;
      this.in = in;
      this.deadline = deadline;
    }

    private int read() throws IOException {
      arm();
      return in.read();
    }

    private void arm() throws IOException {
      socket.setSoTimeout(remainingMillis(deadline));
    }

    /** A line without its CRLF (a bare LF also ends it); ISO-8859-1. */
    String line() throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      for (; ; ) {
        int b = read();
        if (b < 0) {
          throw new IOException("the server closed the connection in the middle of a response");
        }
        if (b == '\n') {
          byte[] bytes = line.toByteArray();
          int n =
              bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
          return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
        }
        if (line.size() >= MAX_LINE) {
          throw new IOException("a response line is longer than " + MAX_LINE + " bytes");
        }
        line.write(b);
      }
    }

    void copy(ByteArrayOutputStream out, long count) throws IOException {
      byte[] buf = new byte[64 << 10];
      long left = count;
      while (left > 0) {
        arm();
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new IOException(
              "the body ended after " + (count - left) + " of " + count + " bytes");
        }
        out.write(buf, 0, n);
        left -= n;
      }
    }

    void copyToEnd(ByteArrayOutputStream out, long maxBody) throws IOException {
      byte[] buf = new byte[64 << 10];
      for (; ; ) {
        arm();
        int n = in.read(buf);
        if (n < 0) {
          return;
        }
        if (out.size() + n > maxBody) {
          throw new TooLarge(out.size() + n);
        }
        out.write(buf, 0, n);
      }
    }
  }

  private static int remainingMillis(long deadline) throws Timeout {
    long left = (deadline - System.nanoTime()) / 1_000_000;
    if (left <= 0) {
      throw new Timeout("no complete response within the request timeout");
    }
    return (int) Math.min(Integer.MAX_VALUE, left);
  }

  private static int timeoutMillis(Duration d) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, d.toMillis()));
  }

  /** The URL's host without IPv6 brackets. */
  static String hostOf(URI url) {
    String h = url.getHost();
    return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
  }

  private static boolean isLiteral(String host) {
    return host.contains(":") || host.matches("[0-9.]+");
  }
}
