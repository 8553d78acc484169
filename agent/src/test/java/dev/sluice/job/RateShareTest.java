package dev.sluice.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class RateShareTest {
  @Test
  void splitsRateAndBurstAcrossAgents() {
    RateShare s = new RateShare(9000.0, 3000, 3);
    assertEquals(3000.0, s.shareRowsPerSecond());
    assertEquals(1000, s.shareBurstRows());
    assertEquals(9000.0, s.withAgents(1).shareRowsPerSecond());
    assertEquals(4500.0, s.withAgents(2).shareRowsPerSecond());
  }

  @Test
  void unpacedStaysUnpacedAndNothingGoesBelowOne() {
    assertNull(new RateShare(null, 500, 4).shareRowsPerSecond());
    RateShare tiny = new RateShare(10.0, 2, 5);
    assertEquals(1, tiny.shareBurstRows());
    assertEquals(1, new RateShare(10.0, 2, 0).agents(), "no agent count below one");
  }
}
