package dev.sluice.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.capture.SlotRisk;
import dev.sluice.health.Throttler;
import org.junit.jupiter.api.Test;

class SlotVerdictTest {
  private static final long MB = 1048576;
  private final SlotRisk.Limits limits = new SlotRisk.Limits(100 * MB, 200 * MB, 400 * MB);
  private final Throttler.Decision healthy = new Throttler.Decision(false, null, 1.0, null);

  @Test
  void aSlotUnderItsLimitsChangesNothing() {
    assertSame(healthy, SlotVerdict.combine(healthy, SlotRisk.decide(limits, "sluice_t", 50 * MB, false)));
    assertSame(healthy, SlotVerdict.combine(healthy, null));
  }

  @Test
  void aSlotPastItsThrottleLevelSlowsTheJobWhenItIsTheTightest() {
    Throttler.Decision d = SlotVerdict.combine(healthy, SlotRisk.decide(limits, "sluice_t", 150 * MB, false));
    assertFalse(d.throttled());
    assertEquals(0.55, d.rateFactor(), 1e-9);
    assertEquals("rate at 55%: slot sluice_t retains 150 MB of WAL (throttle at 100 MB, pause at 200 MB)", d.headroom());
    Throttler.Decision tighter = new Throttler.Decision(false, null, 0.3, "rate at 30%: probe latency on source 80 ms of 100 ms");
    assertSame(tighter, SlotVerdict.combine(tighter, SlotRisk.decide(limits, "sluice_t", 150 * MB, false)));
  }

  @Test
  void aSlotPastItsPauseLevelHoldsTheJobWithItsReasonFirst() {
    Throttler.Decision d = SlotVerdict.combine(healthy, SlotRisk.decide(limits, "sluice_t", 250 * MB, false));
    assertTrue(d.throttled());
    assertEquals("slot sluice_t retains 250 MB of WAL (pause at 200 MB, dropped at 400 MB)", d.reason());
    Throttler.Decision sick = new Throttler.Decision(true, "probe latency on source 2000 ms > 1000 ms", 0.1, null);
    Throttler.Decision both = SlotVerdict.combine(sick, SlotRisk.decide(limits, "sluice_t", 250 * MB, false));
    assertEquals("slot sluice_t retains 250 MB of WAL (pause at 200 MB, dropped at 400 MB); probe latency on source 2000 ms > 1000 ms",
        both.reason());
    assertEquals(0.1, both.rateFactor(), 1e-9);
    assertTrue(SlotVerdict.combine(healthy, SlotRisk.decide(limits, "sluice_t", 0, true)).throttled(), "a slot being replaced holds too");
  }
}
