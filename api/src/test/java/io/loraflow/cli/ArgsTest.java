package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ArgsTest {

  private static Args parse(String... args) {
    return Args.parse("run", List.of(args), Set.of("--key"), Set.of("--follow"));
  }

  @Test
  void readsPositionalsFlagsAndBothValueForms() {
    Args a = parse("spec.yaml", "--follow", "--key", "k1");
    assertEquals(List.of("spec.yaml"), a.positionals());
    assertTrue(a.flag("--follow"));
    assertEquals("k1", a.value("--key", null));
    assertEquals("k2", parse("--key=k2", "x").value("--key", null));
    assertFalse(parse("x").flag("--follow"));
    assertEquals("d", parse("x").value("--key", "d"));
  }

  @Test
  void everythingAfterDoubleDashIsPositional() {
    assertEquals(List.of("a", "--follow"), parse("a", "--", "--follow").positionals());
  }

  @Test
  void unknownOptionAndMissingValueNameTheProblem() {
    Args.UsageException unknown =
        assertThrows(Args.UsageException.class, () -> parse("x", "--folow"));
    assertEquals("run: unknown option '--folow'; known: [--follow, --key]", unknown.getMessage());
    Args.UsageException missing = assertThrows(Args.UsageException.class, () -> parse("--key"));
    assertEquals("run: option --key needs a value", missing.getMessage());
    Args.UsageException two =
        assertThrows(
            Args.UsageException.class, () -> parse("a", "b").onePositional("run", "spec file"));
    assertEquals("run: expected one spec file, got [a, b]", two.getMessage());
  }
}
