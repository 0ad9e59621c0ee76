package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The run-spec help cannot drift from the RunSpec records. */
class SpecFieldsTest {

  @Test
  void everyFieldOfTheRecordsHasAMeaningAndEveryMeaningAField() {
    List<String> paths = SpecFields.fields().stream().map(SpecFields.Field::path).toList();
    for (SpecFields.Field f : SpecFields.fields()) {
      assertNotNull(f.meaning(), "no meaning for run-spec field " + f.path());
    }
    for (String documented : SpecFields.MEANINGS.keySet()) {
      assertTrue(paths.contains(documented), "no run-spec field " + documented);
    }
    assertEquals(SpecFields.MEANINGS.size(), paths.size());
  }

  @Test
  void defaultsComeFromTheRecords() {
    SpecFields.Field epochs =
        SpecFields.fields().stream()
            .filter(f -> f.path().equals("training.epochs"))
            .findFirst()
            .orElseThrow();
    assertEquals(io.loraflow.workflows.TrainingSpec.defaults().epochs(), epochs.defaultValue());
    assertTrue(SpecFields.help().contains("training.optimizer"), SpecFields.help());
  }
}
