package io.loraflow.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EarlyStoppingTest {

  @Test
  void stopsWhenPatienceIsUsedUpAndKeepsTheBest() {
    EarlyStopping es = new EarlyStopping(new EvalPolicy(10, false, 2, 0.01), null);
    assertNull(es.state().bestLoss());
    // step: 10 20 30 40 50 60
    // loss: 3.0 2.5 2.495 (not better by > 0.01) 2.40 (better) 2.41 2.395 (< 0.01 better)
    assertEquals(new EarlyStopping.Decision(true, false), es.observe(10, 3.0));
    assertEquals(new EarlyStopping.Decision(true, false), es.observe(20, 2.5));
    assertEquals(new EarlyStopping.Decision(false, false), es.observe(30, 2.495));
    assertEquals(new EarlyStopping.Decision(true, false), es.observe(40, 2.40));
    assertEquals(new EarlyStopping.Decision(false, false), es.observe(50, 2.41));
    assertEquals(new EarlyStopping.Decision(false, true), es.observe(60, 2.395));
    assertEquals(new EarlyStopping.State(2.40, 40, 2), es.state());
    assertTrue(es.exhausted());
  }

  @Test
  void patienceZeroNeverStops() {
    EarlyStopping es = new EarlyStopping(new EvalPolicy(1, true, 0, 0), null);
    es.observe(1, 1.0);
    for (int i = 2; i < 50; i++) {
      assertFalse(es.observe(i, 1.0 + i).stop());
    }
    assertEquals(1, es.state().bestStep());
  }

  @Test
  void restoredStateContinuesTheCount() {
    EvalPolicy p = new EvalPolicy(5, false, 3, 0);
    EarlyStopping es = new EarlyStopping(p, new EarlyStopping.State(1.5, 10, 2));
    assertFalse(es.exhausted());
    assertTrue(es.observe(25, 1.6).stop());
  }

  @Test
  void badPoliciesAndLossesAreRejectedWithTheValue() {
    var e = assertThrows(IllegalArgumentException.class, () -> new EvalPolicy(0, false, 3, 0));
    assertTrue(e.getMessage().contains("patience 3"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new EvalPolicy(-1, true, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new EvalPolicy(1, true, 0, -0.1));
    EarlyStopping es = new EarlyStopping(new EvalPolicy(1, false, 1, 0), null);
    assertThrows(IllegalArgumentException.class, () -> es.observe(1, Double.NaN));
  }
}
