package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.api.auth.ApiKeyStore;
import io.loraflow.api.auth.Scope;
import io.loraflow.commandline.CommandLine;
import io.loraflow.commandline.Console;
import io.loraflow.commandline.ExitCodes;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code loraflow keys}: the key file the REST service reads, managed through the command line. */
class KeysVerbTest {

  private static final CommandLine CLI =
      Loraflow.commandLine(
          env -> {
            throw new AssertionError("keys needs no stack");
          });

  @TempDir Path dir;
  private ByteArrayOutputStream out = new ByteArrayOutputStream();
  private ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int exec(Map<String, String> env, String... args) {
    out = new ByteArrayOutputStream();
    err = new ByteArrayOutputStream();
    return CLI.execute(
        args,
        new Console(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            env));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void addedKeyIsPrintedOnceStoredHashedAndAuthenticatesWithItsScope() throws Exception {
    Path file = dir.resolve("keys.json");
    Map<String, String> env = Map.of("LORAFLOW_API_KEYS", file.toString());
    assertEquals(ExitCodes.OK, exec(env, "keys", "add", "--id", "ci-bot", "--scope", "write"));
    String secret = out().strip();
    assertTrue(secret.startsWith(ApiKeyStore.PREFIX), secret);
    assertFalse(Files.readString(file).contains(secret), "the file keeps only the hash");

    var found = new ApiKeyStore(file, Clock.systemUTC()).find(secret);
    assertTrue(found.isPresent());
    assertEquals("ci-bot", found.get().id());
    assertEquals(Scope.parse("write"), found.get().scope());

    assertEquals(ExitCodes.OK, exec(env, "keys", "list"));
    assertTrue(out().startsWith("ci-bot\twrite\t"), out());
    assertFalse(out().contains(secret), "list never shows a key");

    assertEquals(ExitCodes.OK, exec(env, "keys", "revoke", "--id", "ci-bot"));
    assertTrue(new ApiKeyStore(file, Clock.systemUTC()).find(secret).isEmpty());
  }

  @Test
  void fileOptionWinsAndUnknownIdOrScopeIsAClearError() throws Exception {
    Path file = dir.resolve("other.json");
    Map<String, String> env = Map.of("LORAFLOW_API_KEYS", dir.resolve("unused.json").toString());
    assertEquals(
        ExitCodes.OK,
        exec(env, "keys", "--file", file.toString(), "add", "--id", "ops", "--scope", "admin"));
    assertTrue(Files.exists(file));
    assertFalse(Files.exists(dir.resolve("unused.json")));

    assertEquals(
        ExitCodes.FAILED, exec(env, "keys", "--file", file.toString(), "revoke", "--id", "nobody"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("no key 'nobody'"), err.toString());

    assertEquals(ExitCodes.USAGE, exec(env, "keys", "add", "--id", "x", "--scope", "superuser"));
  }
}
