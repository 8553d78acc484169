package dev.sluice.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class ErrorBudgetTest {
  @Test
  void countAndShareRules() {
    ErrorBudget b = new ErrorBudget(2, 0.2, 10);
    assertNull(b.exceeded(2, 3));
    assertEquals("error budget spent: 3 segments failed, more than the 2 allowed", b.exceeded(3, 30));
    ErrorBudget share = new ErrorBudget(null, 0.2, 10);
    assertNull(share.exceeded(2, 5)); // too few finished to judge a share
    assertEquals("error budget spent: 3 of 10 finished segments failed (30%), more than the 20% allowed", share.exceeded(3, 10));
    assertNull(ErrorBudget.UNLIMITED.exceeded(1000, 1000));
  }
}
