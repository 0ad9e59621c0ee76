package io.loraflow.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dropwizard.core.server.DefaultServerFactory;
import io.dropwizard.core.server.ServerFactory;
import io.dropwizard.core.server.SimpleServerFactory;
import io.dropwizard.jetty.ConnectorFactory;
import io.dropwizard.jetty.HttpConnectorFactory;
import io.dropwizard.jetty.HttpsConnectorFactory;
import io.loraflow.api.core.TlsSettings;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the configured http connectors into https ones when {@link TlsSettings} has a keystore:
 * each keeps every setting of its http declaration (host, port, limits) and gains the keystore, so
 * one configuration file serves both. Runs before the server is built. Without a keystore, a plain
 * http connector on a non-loopback address is logged as a warning (keys would travel in clear).
 */
final class ServerTls {
  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

  private ServerTls() {}

  /** Applies {@code tls} to the server factory's http connectors (application and admin). */
  static void apply(ServerFactory server, TlsSettings tls, ObjectMapper mapper) {
    tls.requireUsable();
    if (server instanceof DefaultServerFactory d) {
      d.setApplicationConnectors(convert(d.getApplicationConnectors(), tls, mapper));
      d.setAdminConnectors(convert(d.getAdminConnectors(), tls, mapper));
    } else if (server instanceof SimpleServerFactory s) {
      s.setConnector(convert(List.of(s.getConnector()), tls, mapper).get(0));
    } else if (tls.enabled()) {
      throw new IllegalArgumentException(
          "tls is set but server type " + server.getClass().getSimpleName() + " is not supported");
    }
  }

  private static List<ConnectorFactory> convert(
      List<ConnectorFactory> connectors, TlsSettings tls, ObjectMapper mapper) {
    List<ConnectorFactory> out = new ArrayList<>();
    for (ConnectorFactory c : connectors) {
      boolean plain = c instanceof HttpConnectorFactory && !(c instanceof HttpsConnectorFactory);
      if (!plain) {
        out.add(c);
      } else if (tls.enabled()) {
        out.add(https((HttpConnectorFactory) c, tls, mapper));
      } else {
        warnIfExposed((HttpConnectorFactory) c);
        out.add(c);
      }
    }
    return out;
  }

  /** The http connector's own settings plus the keystore, as an https connector. */
  static HttpsConnectorFactory https(HttpConnectorFactory http, TlsSettings tls, ObjectMapper m) {
    ObjectNode tree = m.valueToTree(http);
    tree.put("type", "https");
    HttpsConnectorFactory https = m.convertValue(tree, HttpsConnectorFactory.class);
    https.setKeyStorePath(tls.keyStorePath());
    https.setKeyStorePassword(tls.keyStorePassword());
    https.setKeyStoreType(tls.keyStoreType());
    return https;
  }

  private static void warnIfExposed(HttpConnectorFactory http) {
    String host = http.getBindHost();
    boolean loopback;
    try {
      loopback = host != null && InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      loopback = false;
    }
    if (!loopback) {
      log.warn(
          "port {} serves plain http on {}: API keys travel in clear; set LORAFLOW_API_KEYSTORE"
              + " and LORAFLOW_API_KEYSTORE_PASSWORD for https",
          http.getPort(),
          host == null ? "every address" : host);
    }
  }
}
