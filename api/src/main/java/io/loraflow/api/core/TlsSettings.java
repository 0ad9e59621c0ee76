package io.loraflow.api.core;

import com.fasterxml.jackson.annotation.JsonIgnore;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Pattern;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Collections;

/**
 * TLS of the API port. Without a keystore the API serves plain http (the default, on loopback);
 * with one, every http application connector serves https with the same host, port and settings.
 *
 * @param keyStorePath PKCS12 or JKS keystore with the server's key and certificate chain
 *     (LORAFLOW_API_KEYSTORE); empty = plain http
 * @param keyStorePassword its password (LORAFLOW_API_KEYSTORE_PASSWORD); never logged or echoed
 * @param keyStoreType PKCS12 (default, what keytool writes) or JKS
 */
public record TlsSettings(
    String keyStorePath,
    String keyStorePassword,
    @Pattern(regexp = "PKCS12|JKS", message = "must be PKCS12 or JKS (LORAFLOW_API_KEYSTORE_TYPE)")
        String keyStoreType) {

  public TlsSettings {
    keyStorePath = keyStorePath == null || keyStorePath.isBlank() ? null : keyStorePath.strip();
    keyStorePassword =
        keyStorePassword == null || keyStorePassword.isEmpty() ? null : keyStorePassword;
    keyStoreType = keyStoreType == null || keyStoreType.isBlank() ? "PKCS12" : keyStoreType.strip();
  }

  /** Plain http. */
  public static TlsSettings none() {
    return new TlsSettings(null, null, null);
  }

  @JsonIgnore
  public boolean enabled() {
    return keyStorePath != null;
  }

  @JsonIgnore
  @AssertTrue(
      message =
          "keyStorePath is set but keyStorePassword is empty; set LORAFLOW_API_KEYSTORE_PASSWORD")
  public boolean isPasswordGiven() {
    return !enabled() || keyStorePassword != null;
  }

  /**
   * Opens the keystore once, so that a wrong path, type or password is one clear line at startup
   * (not a Jetty stack trace), and a keystore without a private key is refused.
   *
   * @throws IllegalArgumentException naming the file and what to fix, never the password
   */
  public void requireUsable() {
    if (!enabled()) {
      return;
    }
    Path file = Path.of(keyStorePath);
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(
          "tls.keyStorePath " + file + " is not a readable file (LORAFLOW_API_KEYSTORE)");
    }
    KeyStore ks;
    try (InputStream in = Files.newInputStream(file)) {
      ks = KeyStore.getInstance(keyStoreType);
      ks.load(in, keyStorePassword.toCharArray());
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot open "
              + keyStoreType
              + " keystore "
              + file
              + ": wrong password (LORAFLOW_API_KEYSTORE_PASSWORD) or not a "
              + keyStoreType
              + " file (LORAFLOW_API_KEYSTORE_TYPE)");
    }
    try {
      for (String alias : Collections.list(ks.aliases())) {
        if (ks.isKeyEntry(alias)) {
          return;
        }
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read keystore " + file + ": " + e.getMessage());
    }
    throw new IllegalArgumentException(
        "keystore "
            + file
            + " holds no private key: create one with keytool -genkeypair (or import the"
            + " server's key and certificate chain)");
  }

  @Override
  @JsonIgnore
  public String toString() {
    return "TlsSettings[keyStorePath="
        + keyStorePath
        + ", keyStorePassword=<"
        + (keyStorePassword == null ? "none" : "set")
        + ">, keyStoreType="
        + keyStoreType
        + "]";
  }
}
