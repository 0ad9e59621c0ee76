package io.loraflow.activities.dataset;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which hosts http(s) dataset fetches may reach. A dataset URI comes from a client, so by default
 * it may not point into the service's own network: the host is resolved and <em>every</em> address
 * it resolves to must be public (not loopback, unspecified, private, carrier-grade NAT, link-local
 * (which holds the cloud metadata service 169.254.169.254), unique-local, multicast or broadcast;
 * IPv4 inside IPv6 is unwrapped). Hosts and networks an operator allow-lists with {@value #ENV} are
 * exempt (e.g. an internal mirror). Each redirect target is checked again by the fetcher.
 *
 * <p>DNS rebinding: the host is resolved once ({@link #vet}) and the fetcher connects to the vetted
 * address itself ({@link PinnedHttp}: the URL's host only names the server in the {@code Host}
 * header, TLS SNI and the certificate check), so a DNS server that answers differently on a second
 * lookup is never asked a second time. Each redirect target is resolved and vetted again.
 *
 * @param allowedHosts host names (lowercase) and literal addresses that are always allowed
 * @param allowedNetworks CIDR blocks that are always allowed, e.g. 10.1.0.0/16
 */
public record AddressPolicy(Set<String> allowedHosts, List<Cidr> allowedNetworks) {

  /** Comma-separated host names, addresses and CIDR blocks that datasets may be fetched from. */
  public static final String ENV = "LORAFLOW_DATASET_ALLOW_HOSTS";

  public AddressPolicy {
    allowedHosts = Set.copyOf(allowedHosts);
    allowedNetworks = List.copyOf(allowedNetworks);
  }

  /** Public addresses only. */
  public static AddressPolicy publicOnly() {
    return new AddressPolicy(Set.of(), List.of());
  }

  /** From {@value #ENV}, e.g. {@code "mirror.internal,10.1.0.0/16,127.0.0.1"}. */
  public static AddressPolicy fromEnv(Map<String, String> env) {
    return parse(env.getOrDefault(ENV, ""));
  }

  public static AddressPolicy parse(String list) {
    Set<String> hosts = new TreeSet<>();
    List<Cidr> networks = new ArrayList<>();
    for (String item : list.split(",")) {
      String s = item.strip().toLowerCase(Locale.ROOT);
      if (s.isEmpty()) {
        continue;
      }
      if (s.contains("/")) {
        networks.add(Cidr.parse(s));
      } else {
        hosts.add(s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s);
      }
    }
    return new AddressPolicy(hosts, networks);
  }

  /**
   * Checks the host of {@code url} with the JVM's resolver.
   *
   * @param uriText the dataset URI as the user wrote it, for the message
   * @throws DatasetException (not allowed, or unreachable when the name does not resolve)
   */
  public void check(URI url, String uriText) {
    vet(url, uriText, HostResolver.system());
  }

  /**
   * Resolves the host of {@code url} once and checks every address it resolves to.
   *
   * @param uriText the dataset URI as the user wrote it, for the message
   * @return the vetted addresses, in the resolver's order: connect to these, not to the name
   * @throws DatasetException (not allowed, or unreachable when the name does not resolve)
   */
  public List<InetAddress> vet(URI url, String uriText, HostResolver resolver) {
    String host = url.getHost();
    if (host == null || host.isEmpty()) {
      throw DatasetException.invalid("dataset '" + uriText + "' has no host name in " + url);
    }
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    InetAddress[] addresses;
    try {
      addresses = resolver.resolve(h);
    } catch (UnknownHostException e) {
      throw DatasetException.unreachable(
          "dataset '" + uriText + "': host " + host + " does not resolve; check the URL", e);
    }
    if (addresses == null || addresses.length == 0) {
      throw DatasetException.unreachable(
          "dataset '" + uriText + "': host " + host + " has no addresses; check the URL", null);
    }
    if (allowedHosts.contains(h)) {
      return List.of(addresses);
    }
    for (InetAddress a : addresses) {
      if (allowedHosts.contains(a.getHostAddress())
          || allowedNetworks.stream().anyMatch(n -> n.contains(a))) {
        continue;
      }
      String why = internal(a);
      if (why != null) {
        throw DatasetException.notAllowed(
            "dataset '"
                + uriText
                + "': host "
                + host
                + " resolves to "
                + a.getHostAddress()
                + " ("
                + why
                + "); datasets are not fetched from internal addresses. If this host is meant to"
                + " serve datasets, add it to "
                + ENV
                + " on the CPU worker, or upload the file to the object store and use s3://");
      }
    }
    return List.of(addresses);
  }

  /** Why {@code a} is internal (e.g. "loopback"), or null for a public address. */
  static String internal(InetAddress a) {
    if (a instanceof Inet6Address v6) {
      byte[] b = v6.getAddress();
      boolean mapped = true; // ::ffff:a.b.c.d and ::a.b.c.d carry an IPv4 address
      for (int i = 0; i < 10; i++) {
        mapped &= b[i] == 0;
      }
      boolean compat = mapped && b[10] == 0 && b[11] == 0;
      mapped &= (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
      if (mapped || (compat && !v6.isLoopbackAddress() && !v6.isAnyLocalAddress())) {
        try {
          return internal(InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]}));
        } catch (UnknownHostException impossible) {
          return "unparsable";
        }
      }
      if ((b[0] & 0xfe) == 0xfc) {
        return "unique-local fc00::/7";
      }
      if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x01 && b[2] == 0x0d && (b[3] & 0xff) == 0xb8) {
        return "documentation 2001:db8::/32";
      }
      if ((b[0] & 0xff) == 0x00 && b[1] == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b) {
        return "NAT64 64:ff9b::/96"; // may translate to an internal IPv4 address
      }
    }
    if (a.isLoopbackAddress()) {
      return "loopback";
    }
    if (a.isAnyLocalAddress()) {
      return "unspecified address";
    }
    if (a.isLinkLocalAddress()) {
      return "link-local, where cloud metadata services live";
    }
    if (a.isSiteLocalAddress()) {
      return "private network";
    }
    if (a.isMulticastAddress()) {
      return "multicast";
    }
    if (a instanceof Inet4Address) {
      byte[] b = a.getAddress();
      int b0 = b[0] & 0xff;
      int b1 = b[1] & 0xff;
      if (b0 == 0) {
        return "0.0.0.0/8";
      }
      if (b0 == 100 && b1 >= 64 && b1 <= 127) {
        return "carrier-grade NAT 100.64.0.0/10";
      }
      if (b0 == 192 && b1 == 0 && (b[2] & 0xff) == 0) {
        return "IETF protocol assignments 192.0.0.0/24";
      }
      if (b0 == 198 && (b1 == 18 || b1 == 19)) {
        return "benchmarking 198.18.0.0/15";
      }
      if (b0 >= 240) {
        return "reserved or broadcast 240.0.0.0/4";
      }
    }
    return null;
  }

  /**
   * An address block.
   *
   * @param network the block's address bytes
   * @param prefix leading bits that must match
   */
  public record Cidr(byte[] network, int prefix) {

    public static Cidr parse(String text) {
      int slash = text.indexOf('/');
      String addr = text.substring(0, slash);
      int prefix;
      try {
        prefix = Integer.parseInt(text.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(ENV + ": '" + text + "' is not a CIDR block", e);
      }
      if (!addr.matches("[0-9a-fA-F:.]+")) {
        throw new IllegalArgumentException(ENV + ": '" + text + "' must be an address/prefix");
      }
      byte[] bytes;
      try {
        bytes = InetAddress.getByName(addr).getAddress(); // a literal: no lookup
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException(ENV + ": '" + text + "' is not an address", e);
      }
      if (prefix < 0 || prefix > bytes.length * 8) {
        throw new IllegalArgumentException(ENV + ": prefix of '" + text + "' is out of range");
      }
      return new Cidr(bytes, prefix);
    }

    public boolean contains(InetAddress a) {
      byte[] b = a.getAddress();
      if (b.length != network.length) {
        return false;
      }
      for (int bit = 0; bit < prefix; bit++) {
        int mask = 0x80 >>> (bit % 8);
        if ((b[bit / 8] & mask) != (network[bit / 8] & mask)) {
          return false;
        }
      }
      return true;
    }
  }
}
