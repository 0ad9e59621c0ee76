package io.loraflow.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
  void missingTokenNamesTheVariable() {
    Exception e =
        assertThrows(Exception.class, () -> load(Map.of("LORAFLOW_STATE_DIR", state.toString())));
    assertTrue(e.getMessage().contains("LORAFLOW_API_TOKEN"), e.getMessage());
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
