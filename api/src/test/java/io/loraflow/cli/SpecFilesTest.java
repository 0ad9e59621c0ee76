package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.workflows.RunSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecFilesTest {

  @TempDir Path dir;

  @Test
  void yamlAndJsonGiveTheSameSpec() throws Exception {
    Path yaml = dir.resolve("spec.yaml");
    Files.writeString(
        yaml,
        """
        dataset: builtin:ecommerce-faq
        baseModel: smollm2-135m-instruct
        training:
          epochs: 2
          targetModules: [q_proj, v_proj]
        """);
    Path json = dir.resolve("spec.json");
    Files.writeString(
        json,
        "{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"smollm2-135m-instruct\","
            + "\"training\":{\"epochs\":2,\"targetModules\":[\"q_proj\",\"v_proj\"]}}");
    RunSpec fromYaml = SpecFiles.read(yaml);
    assertEquals(fromYaml, SpecFiles.read(json));
    assertEquals(2, fromYaml.training().epochs());
  }

  @Test
  void typoAndBadValueAndMissingFileNameTheProblem() throws Exception {
    Path typo = dir.resolve("typo.yml");
    Files.writeString(
        typo, "dataset: builtin:ecommerce-faq\nbaseModel: smollm2-135m-instruct\nepoch: 2\n");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SpecFiles.read(typo));
    assertTrue(
        e.getMessage().contains("typo.yml") && e.getMessage().contains("'epoch'"), e.getMessage());

    Path bad = dir.resolve("bad.json");
    Files.writeString(bad, "{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"nope\"}");
    IllegalArgumentException b =
        assertThrows(IllegalArgumentException.class, () -> SpecFiles.read(bad));
    assertTrue(b.getMessage().contains("baseModel 'nope'"), b.getMessage());

    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class, () -> SpecFiles.read(dir.resolve("none.yaml")));
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
  }
}
