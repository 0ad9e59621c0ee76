package io.loraflow.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StackEnvFileTest {
  @TempDir Path state;

  @Test
  void readsWhatStackUpWritesWithExportsQuotesAndComments() throws IOException {
    Files.writeString(
        state.resolve("stack.env"),
        """
        # written by ./loraflow stack up

        export LORAFLOW_TEMPORAL_TARGET=127.0.0.1:7233
        LORAFLOW_S3_ENDPOINT="http://127.0.0.1:9000"
        LORAFLOW_S3_SECRET_KEY='s3cr=et'
        """);
    Map<String, String> env = Map.of("LORAFLOW_STATE_DIR", state.toString());
    Map<String, String> values = StackEnvFile.read(StackEnvFile.path(env));
    assertEquals(
        Map.of(
            "LORAFLOW_TEMPORAL_TARGET", "127.0.0.1:7233",
            "LORAFLOW_S3_ENDPOINT", "http://127.0.0.1:9000",
            "LORAFLOW_S3_SECRET_KEY", "s3cr=et"),
        values);
  }

  @Test
  void theEnvironmentWinsOverTheFileAndBlankValuesDoNot() throws IOException {
    Files.writeString(state.resolve("stack.env"), "A=file\nB=file\nC=file\n");
    Map<String, String> merged =
        StackEnvFile.merged(Map.of("LORAFLOW_STATE_DIR", state.toString(), "A", "env", "B", " "));
    assertEquals("env", merged.get("A"));
    assertEquals("file", merged.get("B"));
    assertEquals("file", merged.get("C"));
  }

  @Test
  void stateDirComesFromStateDirThenHome() {
    assertEquals(Path.of("/s"), StackEnvFile.stateDir(Map.of("LORAFLOW_STATE_DIR", "/s")));
    assertEquals(Path.of("/repo/.state"), StackEnvFile.stateDir(Map.of("LORAFLOW_HOME", "/repo")));
    assertEquals(
        Path.of("/s/stack.env"),
        StackEnvFile.path(Map.of("LORAFLOW_STATE_DIR", "/s", "LORAFLOW_HOME", "/repo")));
  }

  @Test
  void aMalformedLineIsNamedAndAMissingFileIsEmpty() throws IOException {
    Path file = state.resolve("stack.env");
    assertEquals(Map.of(), StackEnvFile.readIfPresent(file));
    Files.writeString(file, "A=1\nthis is not a setting\n");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> StackEnvFile.read(file));
    assertTrue(e.getMessage().contains("line 2 is not KEY=VALUE"), e.getMessage());
    assertTrue(e.getMessage().contains("'this is not a setting'"), e.getMessage());
  }
}
