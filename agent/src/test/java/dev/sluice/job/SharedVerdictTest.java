package dev.sluice.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ledger.Roster;
import dev.sluice.health.Throttler;
import org.junit.jupiter.api.Test;

class SharedVerdictTest {
  private static final Throttler.Decision HEALTHY = new Throttler.Decision(false, null, 1.0, null);

  @Test
  void healthyOthersLeaveTheOwnDecisionAlone() {
    assertSame(HEALTHY, SharedVerdict.combine(HEALTHY, Roster.FleetHealth.NONE));
    Throttler.Decision slow = new Throttler.Decision(false, null, 0.5, "rate at 50%: replication lag 3 s of 5 s");
    assertSame(slow, SharedVerdict.combine(slow, new Roster.FleetHealth(false, null, 0.8)));
  }

  @Test
  void anotherAgentsThrottleStopsThisOneWithItsReason() {
    Throttler.Decision d = SharedVerdict.combine(HEALTHY, new Roster.FleetHealth(true, "agent b: replication lag 12 s > 5 s", 0.1));
    assertTrue(d.throttled());
    assertEquals("agent b: replication lag 12 s > 5 s", d.reason());
    assertEquals(0.1, d.rateFactor());
  }

  @Test
  void theLowestRateFactorWinsAndBothReasonsAreKept() {
    Throttler.Decision own = new Throttler.Decision(true, "lock waiters 9 > 5", 0.6, null);
    Throttler.Decision d = SharedVerdict.combine(own, new Roster.FleetHealth(true, "agent c: probe failed", 0.2));
    assertEquals("lock waiters 9 > 5; agent c: probe failed", d.reason());
    assertEquals(0.2, d.rateFactor());
    Throttler.Decision slower = SharedVerdict.combine(HEALTHY, new Roster.FleetHealth(false, null, 0.4));
    assertFalse(slower.throttled());
    assertEquals(0.4, slower.rateFactor());
    assertEquals("rate at 40%: another agent's sensors", slower.headroom());
  }
}
