package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class NumbersTest {

  @Test
  void longDecimalsInTextAreRoundedAndVersionsHostsAndIdsAreNot() {
    assertEquals(
        "trained 89 steps, loss 3.646",
        Numbers.roundIn("trained 89 steps, loss 3.646487236022949"));
    assertEquals(
        "eval loss 2.825 does not beat champion's 2.800.",
        Numbers.roundIn(
            "eval loss 2.82493019104 does not beat champion's 2.8.".replace("2.8.", "2.800.")));
    assertEquals("lr 2.00e-04 at step 3", Numbers.roundIn("lr 0.00019999999 at step 3"));
    assertEquals("pytorch 2.7.1, 10.0.0.5:7233", Numbers.roundIn("pytorch 2.7.1, 10.0.0.5:7233"));
    assertEquals("run-1.23456x v1.23456", Numbers.roundIn("run-1.23456x v1.23456"));
    assertEquals("loss 1.5", Numbers.roundIn("loss 1.5"));
    assertEquals("-0.123", Numbers.roundIn("-0.12345"));
  }

  @Test
  void roundKeepsThreeDecimalsOrThreeSignificantDigits() {
    assertEquals("3.302", Numbers.round(3.30203914642334));
    assertEquals("0.000", Numbers.round(0.0));
    assertEquals("2.00e-04", Numbers.round(2e-4));
    assertEquals("nan", Numbers.round(Double.NaN));
  }

  @Test
  void rateKeepsThreeSignificantDigitsSoGridValuesStayApart() {
    assertEquals("0.0025", Numbers.rate(2.5e-3));
    assertEquals("0.001", Numbers.rate(1.0e-3));
    assertEquals("0.0002", Numbers.rate(2e-4));
    assertEquals("0.000123", Numbers.rate(1.23456e-4));
    assertEquals("0", Numbers.rate(0.0));
    assertEquals("nan", Numbers.rate(Double.NaN));
  }
}
