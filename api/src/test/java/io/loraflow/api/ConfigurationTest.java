package io.loraflow.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dropwizard.configuration.ConfigurationValidationException;
import io.dropwizard.configuration.SubstitutingSourceProvider;
import io.dropwizard.configuration.YamlConfigurationFactory;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.jersey.validation.Validators;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default configuration file: substitution from env and stack.env, and validation. */
class ConfigurationTest {

  @TempDir Path state;

  private LoraflowConfiguration load(Map<String, String> env) throws Exception {
    YamlConfigurationFactory<LoraflowConfiguration> factory =
        new YamlConfigurationFactory<>(
            LoraflowConfiguration.class,
            Validators.newValidator(),
            Jackson.newObjectMapper(),
            "dw");
    return factory.build(
        new SubstitutingSourceProvider(
            new LoraflowApplication.ClasspathOrFileSourceProvider(),
            new StackEnvLookup(env).substitutor()),
        LoraflowApplication.DEFAULT_CONFIG);
  }

  @Test
  void environmentWinsOverStackEnvWhichWinsOverDefaults() throws Exception {
    Files.writeString(
        state.resolve("stack.env"),
        "LORAFLOW_TEMPORAL_TARGET=10.0.0.5:7233\nLORAFLOW_MLFLOW_URI=http://10.0.0.5:5000\n");
    LoraflowConfiguration c =
        load(
            Map.of(
                "LORAFLOW_STATE_DIR", state.toString(),
                "LORAFLOW_API_TOKEN", "a-token-of-sixteen-chars",
                "LORAFLOW_MLFLOW_URI", "http://mlflow.internal:5000"));
    assertEquals("10.0.0.5:7233", c.getTemporal().target()); // stack.env
    assertEquals(URI.create("http://mlflow.internal:5000"), c.getLinks().mlflow()); // env
    assertEquals("default", c.getTemporal().namespace()); // default
    assertEquals(3, c.getTemporal().queryTimeout().toSeconds());
  }

  @Test
  void withoutATokenTheKeyFileOfTheStateDirIsUsedAndNoSecretIsPrinted() throws Exception {
    LoraflowConfiguration c = load(Map.of("LORAFLOW_STATE_DIR", state.toString()));
    assertEquals(state.resolve("api-keys.json").toString(), c.getAuth().keyFile());
    assertNull(c.getAuth().token());
    LoraflowConfiguration withToken =
        load(
            Map.of(
                "LORAFLOW_STATE_DIR", state.toString(),
                "LORAFLOW_API_TOKEN", "a-secret-token-of-24chars",
                "LORAFLOW_API_KEYS", "/etc/loraflow/keys.json"));
    assertEquals("/etc/loraflow/keys.json", withToken.getAuth().keyFile());
    assertFalse(
        withToken.getAuth().toString().contains("a-secret"), withToken.getAuth().toString());
    assertEquals("127.0.0.1", adminHost(withToken), "the admin port is loopback by default");
  }

  @Test
  void plainHttpByDefaultAndTheKeystoreFromTheEnvironment() throws Exception {
    LoraflowConfiguration plain = load(Map.of("LORAFLOW_STATE_DIR", state.toString()));
    assertFalse(plain.getTls().enabled());
    LoraflowConfiguration tls =
        load(
            Map.of(
                "LORAFLOW_STATE_DIR", state.toString(),
                "LORAFLOW_API_KEYSTORE", "/etc/loraflow/api.p12",
                "LORAFLOW_API_KEYSTORE_PASSWORD", "a-keystore-secret"));
    assertTrue(tls.getTls().enabled());
    assertEquals("/etc/loraflow/api.p12", tls.getTls().keyStorePath());
    assertEquals("PKCS12", tls.getTls().keyStoreType());
    assertFalse(tls.getTls().toString().contains("a-keystore-secret"), tls.getTls().toString());
    var noPassword =
        assertThrows(
            ConfigurationValidationException.class,
            () ->
                load(
                    Map.of(
                        "LORAFLOW_STATE_DIR",
                        state.toString(),
                        "LORAFLOW_API_KEYSTORE",
                        "/etc/loraflow/api.p12")));
    assertTrue(
        noPassword.getMessage().contains("set LORAFLOW_API_KEYSTORE_PASSWORD"),
        noPassword.getMessage());
  }

  @Test
  void neitherKeyFileNorTokenNamesBothVariables() {
    String messages =
        Validators.newValidator()
            .validate(new io.loraflow.api.core.AuthSettings(null, " "))
            .stream()
            .map(v -> v.getPropertyPath() + " " + v.getMessage())
            .reduce("", String::concat);
    assertTrue(messages.contains("LORAFLOW_API_KEYS"), messages);
    assertTrue(messages.contains("LORAFLOW_API_TOKEN"), messages);
  }

  private static String adminHost(LoraflowConfiguration c) {
    var server = (io.dropwizard.core.server.DefaultServerFactory) c.getServerFactory();
    return ((io.dropwizard.jetty.HttpConnectorFactory) server.getAdminConnectors().get(0))
        .getBindHost();
  }

  @Test
  void shortTokenAndBadTargetAreValidationErrorsNamingTheKey() {
    ConfigurationValidationException e =
        assertThrows(
            ConfigurationValidationException.class,
            () ->
                load(
                    Map.of(
                        "LORAFLOW_STATE_DIR", state.toString(),
                        "LORAFLOW_API_TOKEN", "short",
                        "LORAFLOW_TEMPORAL_TARGET", "localhost")));
    assertTrue(
        e.getMessage().contains("auth.token must be at least 16 characters"), e.getMessage());
    assertTrue(e.getMessage().contains("temporal.target must be host:port"), e.getMessage());
  }
}
