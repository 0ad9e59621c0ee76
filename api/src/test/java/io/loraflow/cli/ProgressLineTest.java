package io.loraflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.cli.ProgressLine.Snapshot;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProgressLineTest {

  private static final Snapshot TRAIN =
      new Snapshot("train", 120, 400, 1.23456, 812.4, Duration.ofSeconds(185), "training");

  @Test
  void wideTerminalShowsEveryField() {
    String line = ProgressLine.render(TRAIN, 120);
    assertEquals(
        "train     [===========>                            ]  120/400  30%  loss 1.235"
            + "  812 tok/s  ETA 3m05s",
        line);
  }

  @Test
  void heldOutLossFollowsTheTrainingLoss() {
    Snapshot s =
        new Snapshot("train", 120, 400, 1.23456, 812.4, Duration.ofSeconds(185), "training", 1.5);
    String line = ProgressLine.render(s, 120);
    assertTrue(line.contains("loss 1.235 eval 1.500  812 tok/s"), line);
  }

  @ParameterizedTest
  @CsvSource({"200", "100", "80", "60", "50", "40", "20", "5", "1"})
  void neverExceedsTheWidth(int width) {
    String line = ProgressLine.render(TRAIN, width);
    assertTrue(line.length() <= width, () -> line.length() + " > " + width + ": " + line);
  }

  @Test
  void narrowTerminalDropsSpeedThenLossBeforeTheBar() {
    // 70 columns hold every field with the narrowest bar; one less and the speed goes first
    assertTrue(ProgressLine.render(TRAIN, 70).contains("812 tok/s"));
    String at70 = ProgressLine.render(TRAIN, 69);
    assertFalse(at70.contains("tok/s"), at70);
    assertTrue(at70.contains("loss 1.235"), at70);
    assertTrue(at70.contains("["), at70);
    String at50 = ProgressLine.render(TRAIN, 50);
    assertFalse(at50.contains("loss"), at50);
    assertTrue(at50.contains("120/400") && at50.contains("ETA 3m05s"), at50);
  }

  @Test
  void barIsCappedOnVeryWideTerminals() {
    String line = ProgressLine.render(TRAIN, 400);
    int cells = line.indexOf(']') - line.indexOf('[') - 1;
    assertEquals(ProgressLine.MAX_BAR, cells);
  }

  @Test
  void barFillsProportionallyAndIsFullAtTheEnd() {
    assertEquals("[=====>    ]", ProgressLine.bar(60, 100, 10));
    assertEquals("[==========]", ProgressLine.bar(100, 100, 10));
    assertEquals("[==========]", ProgressLine.bar(130, 100, 10));
    assertEquals("[          ]", ProgressLine.bar(0, 100, 10));
  }

  @Test
  void phaseWithoutStepCountShowsWhatTheRunSaysInsteadOfABar() {
    assertEquals(
        "evaluate  base model: eval loss",
        ProgressLine.render(
            new Snapshot("evaluate", 0, 0, null, null, null, "base model: eval loss"), 80));
    assertEquals(
        "dataset   working",
        ProgressLine.render(new Snapshot("dataset", 0, 0, null, null, null, null), 80));
  }

  @ParameterizedTest
  @CsvSource({
    "0, 0s",
    "42, 42s",
    "59, 59s",
    "60, 1m00s",
    "185, 3m05s",
    "3599, 59m59s",
    "3600, 1h00m",
    "3720, 1h02m",
    "86399, 23h59m",
    "97200, 1d03h"
  })
  void formatsDurations(long seconds, String expected) {
    assertEquals(expected, ProgressLine.formatDuration(Duration.ofSeconds(seconds)));
  }

  @Test
  void unknownOrNegativeDurationIsDashes() {
    assertEquals("--", ProgressLine.formatDuration(null));
    assertEquals("--", ProgressLine.formatDuration(Duration.ofSeconds(-3)));
  }

  @ParameterizedTest
  @CsvSource({"3.14, 3.1", "812.4, 812", "12345, 12.3k", "1500000, 1.5M"})
  void formatsRates(double rate, String expected) {
    assertEquals(expected, ProgressLine.formatRate(rate));
  }

  @Test
  void rejectsNonsense() {
    assertThrows(IllegalArgumentException.class, () -> ProgressLine.render(TRAIN, 0));
    assertThrows(
        IllegalArgumentException.class, () -> new Snapshot(" ", 0, 0, null, null, null, null));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Snapshot("train", -1, 10, null, null, null, null));
  }
}
