package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.loraflow.workflows.FineTuneResult;
import io.loraflow.workflows.RegistrationResult;
import io.loraflow.workflows.RegistrySpec;
import io.loraflow.workflows.RunSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The promotion line says why, with rounded numbers. */
class ResultPrinterTest {

  private static FineTuneResult result(RegistrationResult reg, RunSpec spec) {
    return new FineTuneResult("finetune-x", spec, null, null, null, null, null, reg, null);
  }

  @Test
  void theRegistrationsDecisionIsShownRounded() {
    RegistrationResult kept =
        new RegistrationResult(
            "loraflow-m-faq",
            "3",
            List.of("candidate"),
            false,
            "eval loss 2.8249301910400391 does not beat champion version 2's 2.7001 on the same"
                + " held-out set",
            "abc");
    assertEquals(
        "not promoted: eval loss 2.825 does not beat champion version 2's 2.700 on the same"
            + " held-out set",
        ResultPrinter.promotion(result(kept, null)));
    RegistrationResult won =
        new RegistrationResult(
            "loraflow-m-faq", "4", List.of("champion"), true, "first champion", "abc");
    assertEquals("new champion: first champion", ResultPrinter.promotion(result(won, null)));
  }

  @Test
  void withoutADecisionTheRunsSettingIsNamed() {
    RunSpec off =
        new RunSpec(
            null,
            "builtin:ecommerce-faq",
            null,
            "smollm2-135m-instruct",
            null,
            null,
            null,
            null,
            new RegistrySpec(null, false));
    RegistrationResult reg = new RegistrationResult("m", "1", List.of(), false, "", "");
    assertEquals(
        "not promoted: promotion is off for this run (registry.promote: false)",
        ResultPrinter.promotion(result(reg, off)));
  }
}
