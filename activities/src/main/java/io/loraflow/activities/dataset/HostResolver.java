package io.loraflow.activities.dataset;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Host name to addresses, once per fetch (and once per redirect): the answer is both what {@link
 * AddressPolicy} vets and what {@link PinnedHttp} connects to. Tests give a scripted resolver.
 */
@FunctionalInterface
public interface HostResolver {

  /** All addresses of {@code host} (a literal address returns itself without a lookup). */
  InetAddress[] resolve(String host) throws UnknownHostException;

  /** The JVM's resolver. */
  static HostResolver system() {
    return InetAddress::getAllByName;
  }
}
